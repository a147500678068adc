import { assert } from "../errors.ts";
import type { Csr } from "../math/csr.ts";
import { allocF32, checkInit, type InitOptions, initInto } from "./init.ts";
import { RowGrads } from "./row-grads.ts";
import type { Encoder, EncoderContext, RowUpdater } from "./types.ts";

export interface FeatureSumOptions extends InitOptions {
  readonly dim?: number;
  /** Entity → feature ids (nRows × nFeatures), weights from `values`. Default: the positive source's bags. */
  readonly features?: Csr;
  /** "sum" (FM-style, default) or "mean" (YouTube-style average pooling). */
  readonly mode?: "sum" | "mean";
  /** Also add the entity's own id embedding. Default false. */
  readonly includeId?: boolean;
}

/**
 * Sum or mean of feature embeddings (FM recall §5.4, EGES side information, a user as the mean of
 * her items): v(e) = agg_{f ∈ F(e)} w_f · E[f] (+ E_id[e]). Backward spreads dL/dv(e) to each
 * feature row (scaled by w_f, and by 1/|F(e)| for the mean) and updates touched rows only.
 */
export class FeatureSum implements Encoder {
  readonly name: string;
  readonly dim: number;
  readonly table = null;
  private emb: Float32Array = new Float32Array(0);
  private feats: Csr | null = null;
  private nRows = 0;
  private nFeat = 0;
  private grads: RowGrads | null = null;
  private updater: RowUpdater | null = null;

  constructor(private readonly o: FeatureSumOptions = {}) {
    this.dim = o.dim ?? 64;
    assert(
      Number.isInteger(this.dim) && this.dim >= 1,
      () => `encoders.featureSum: dim must be an integer ≥ 1, got ${this.dim}`,
    );
    assert(
      o.mode === undefined || o.mode === "sum" || o.mode === "mean",
      () => `encoders.featureSum: mode must be "sum" or "mean", got "${o.mode}"`,
    );
    checkInit(o, "encoders.featureSum");
    this.name = `featureSum(${o.mode ?? "sum"}, ${this.dim})`;
  }

  prepare(ctx: EncoderContext): void {
    const f = this.o.features ?? ctx.bags;
    assert(
      f !== null,
      () =>
        "encoders.featureSum: no features given and the positive source offers no bags; pass { features: csr }",
    );
    assert(
      f.nRows === ctx.nRows,
      () => `encoders.featureSum: features have ${f.nRows} rows, the id space has ${ctx.nRows}`,
    );
    this.feats = f;
    this.nRows = ctx.nRows;
    this.nFeat = f.nCols;
    const rows = this.nFeat + (this.o.includeId ? ctx.nRows : 0);
    this.emb = allocF32(rows * this.dim, ctx.sharedMemory);
    initInto(this.emb, this.o, ctx.rng);
    this.grads = new RowGrads(rows, this.dim);
    this.updater = ctx.optimizer.bind(this.emb, rows, this.dim, ctx.sharedMemory);
  }

  /** Weight of entry e of row r: value × (1/len for the mean). */
  private scale(r: number): number {
    const f = this.feats as Csr;
    const len = f.offsets[r + 1] - f.offsets[r] + (this.o.includeId ? 1 : 0);
    return (this.o.mode ?? "sum") === "mean" && len > 0 ? 1 / len : 1;
  }

  forwardInto(ids: Int32Array, n: number, out: Float32Array): void {
    const f = this.feats as Csr;
    const d = this.dim;
    const E = this.emb;
    out.fill(0, 0, n * d);
    for (let i = 0; i < n; i++) {
      const r = ids[i];
      const s = this.scale(r);
      for (let e = f.offsets[r]; e < f.offsets[r + 1]; e++) {
        const w = s * (f.values === null ? 1 : f.values[e]);
        const o = f.indices[e] * d;
        for (let j = 0; j < d; j++) out[i * d + j] += w * E[o + j];
      }
      if (this.o.includeId) {
        const o = (this.nFeat + r) * d;
        for (let j = 0; j < d; j++) out[i * d + j] += s * E[o + j];
      }
    }
  }

  backward(ids: Int32Array, n: number, dOut: Float32Array): void {
    const f = this.feats as Csr;
    const g = this.grads as RowGrads;
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      const r = ids[i];
      const s = this.scale(r);
      for (let e = f.offsets[r]; e <= f.offsets[r + 1]; e++) {
        const isId = e === f.offsets[r + 1];
        if (isId && !this.o.includeId) break;
        const row = isId ? this.nFeat + r : f.indices[e];
        const w = s * (isId || f.values === null ? 1 : f.values[e]);
        const off = g.offsetOf(row);
        const buf = g.buf();
        for (let j = 0; j < d; j++) buf[off + j] += w * dOut[i * d + j];
      }
    }
    g.flush(this.updater as RowUpdater);
  }

  exportAll(): Float32Array {
    const out = new Float32Array(this.nRows * this.dim);
    const ids = Int32Array.from({ length: this.nRows }, (_, i) => i);
    this.forwardInto(ids, this.nRows, out);
    return out;
  }

  parameters(): Float32Array[] {
    return [this.emb];
  }
}

/** @example encoders.featureSum({ mode: "mean", dim: 64 }) // U2U: a half-history as the mean of its items */
export function featureSum(o: FeatureSumOptions = {}): FeatureSum {
  return new FeatureSum(o);
}
