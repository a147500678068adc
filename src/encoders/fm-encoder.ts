/**
 * One side of an FM (spec §5.4.2) as an Encoder, so FM recall trains through the generic loop
 * with any loss. For entity e with features I_e (values x_i), first-order weights w_i and
 * embeddings v_i:
 *
 *   s_e = Σ x_i v_i,   lin_e = Σ x_i w_i,   inter_e = ½ reducesum(s_e² − Σ x_i² v_i²)   (5-26)
 *
 * The encoder emits an augmented vector of size dim + 2 whose dot with the other side is the
 * whole FM score (5-23/5-29), user-only terms included (the binary loss needs them):
 *
 *   query (user):  [ 1,                  b + W_u + V_uu,  s_u ]
 *   item:          [ W_t + V_tt,         1,               s_t ]
 *   dot            = W_t + V_tt + b + W_u + V_uu + s_u·s_t = FM(u, t)        (5-24, 5-27)
 *
 * Serving drops slot 1 (the user-only constant does not change a user's ranking), leaving the
 * spec's E_u = concat(1, s_u) and E_t = concat(W_t + V_tt, s_t) (5-28).
 *
 * Backward, for dL/d(out) = [g0, g1, g_s] and a = the augmented slot's gradient (g1 for the
 * query, g0 for items):
 *   ∂/∂w_i = a·x_i,   ∂/∂v_i = a·x_i·(s − x_i v_i) + x_i·g_s,   ∂/∂b = g1 (query only).
 */
import { assert } from "../errors.ts";
import type { Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";
import {
  encodeFeatures,
  type FmFeatureValues,
  type FmFieldLayout,
  fmFeatureCsr,
  fmFieldLayouts,
} from "./fm-fields.ts";
import { allocF32, checkInit, type InitOptions, initInto } from "./init.ts";
import { RowGrads } from "./row-grads.ts";
import type { Encoder, EncoderContext, RowUpdater } from "./types.ts";

export interface FmEncoderOptions extends InitOptions {
  /** "query" (user side, carries the bias) or "item". */
  readonly role: "query" | "item";
  /** Embedding size d of v_i; the encoder's output has d + 2 slots. Default 64. */
  readonly dim?: number;
  /** Declared field specs of this side (encoders/fm-fields.ts), resolved against the data at prepare. */
  readonly fields: readonly string[];
  /**
   * ID dropout: probability that a training row is encoded without its "id" field, so the other
   * fields (attributes, counts) learn to stand for the entity on their own, as they must for a
   * cold entity at serving time (DropoutNet, Volkovs et al. 2017). Serving vectors always use
   * every field. Needs an "id" field when > 0. Default 0.
   */
  readonly idDropout?: number;
}

/**
 * Writes s_e into out[off + 2 .. off + 2 + d) and returns lin_e + inter_e (float64 sums).
 * A kernel: flat arrays and numbers only.
 */
export function fmSideInto(
  V: Float32Array,
  w: Float32Array,
  d: number,
  idx: Int32Array,
  val: Float32Array,
  from: number,
  to: number,
  out: Float32Array,
  off: number,
): number {
  let lin = 0;
  let sq = 0;
  for (let j = 0; j < d; j++) out[off + j] = 0;
  for (let e = from; e < to; e++) {
    const x = val[e];
    const o = idx[e] * d;
    lin += x * w[idx[e]];
    for (let j = 0; j < d; j++) {
      const xv = x * V[o + j];
      out[off + j] += xv;
      sq += xv * xv;
    }
  }
  let ss = 0;
  for (let j = 0; j < d; j++) ss += out[off + j] * out[off + j];
  return lin + 0.5 * (ss - sq);
}

/** `c` without the columns in [lo, hi) (same rows). Allocates. */
function withoutRange(c: Csr, lo: number, hi: number): Csr {
  const offsets = new Int32Array(c.nRows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  const v = c.values as Float32Array;
  for (let r = 0; r < c.nRows; r++) {
    for (let e = c.offsets[r]; e < c.offsets[r + 1]; e++) {
      if (c.indices[e] >= lo && c.indices[e] < hi) continue;
      idx.push(c.indices[e]);
      val.push(v[e]);
    }
    offsets[r + 1] = idx.length;
  }
  return {
    nRows: c.nRows,
    nCols: c.nCols,
    offsets,
    indices: Int32Array.from(idx),
    values: Float32Array.from(val),
  };
}

export class FmEncoder implements Encoder {
  readonly name: string;
  /** Output size: d + 2. */
  readonly dim: number;
  readonly table = null;
  /** v_i (nFeatures × d), w_i (nFeatures), b (1; used by the query side only). */
  V: Float32Array = new Float32Array(0);
  w: Float32Array = new Float32Array(0);
  bias: Float32Array = new Float32Array(1);
  readonly d: number;
  /** Probability that a training row is encoded without its id (FmEncoderOptions.idDropout). */
  readonly idDropout: number;
  /** Set at prepare: the field layout and the entity × feature matrix (values x_i). */
  layouts: FmFieldLayout[] = [];
  features: Csr = {
    nRows: 0,
    nCols: 0,
    offsets: new Int32Array(1),
    indices: new Int32Array(0),
    values: null,
  };
  private s = new Float32Array(0);
  private gV: RowGrads | null = null;
  private gW: RowGrads | null = null;
  private uV: RowUpdater | null = null;
  private uW: RowUpdater | null = null;
  private uB: RowUpdater | null = null;
  private readonly gB = new Float32Array(1);
  /** ID dropout (generic loop): the rows without the id field, the rng, the last forward's draws. */
  private noId: Csr | null = null;
  private rng: Rng | null = null;
  private dropped = new Uint8Array(0);

  constructor(private readonly o: FmEncoderOptions) {
    this.d = o.dim ?? 64;
    assert(
      Number.isInteger(this.d) && this.d >= 1,
      () => `encoders.fm: dim must be an integer ≥ 1, got ${this.d}`,
    );
    assert(o.role === "query" || o.role === "item", () => `encoders.fm: role must be "query" or "item"`);
    checkInit(o, "encoders.fm");
    const p = o.idDropout ?? 0;
    this.idDropout = p;
    assert(Number.isFinite(p) && p >= 0 && p < 1, () => `encoders.fm: idDropout must be in [0, 1), got ${p}`);
    assert(
      p === 0 || o.fields.includes("id"),
      () => `encoders.fm(${o.role}): idDropout ${p} needs an "id" field; fields: ${o.fields.join(", ")}`,
    );
    this.dim = this.d + 2;
    this.name = `fm(${o.role}, ${this.d}+2)`;
  }

  prepare(ctx: EncoderContext): void {
    const side = this.o.role === "query" ? "user" : "item";
    this.layouts = fmFieldLayouts(ctx.data, side, this.o.fields);
    const f = fmFeatureCsr(ctx.data, side, this.layouts);
    this.features = f;
    assert(
      f.nRows === ctx.nRows,
      () => `encoders.fm(${this.o.role}): features have ${f.nRows} rows, the id space has ${ctx.nRows}`,
    );
    const n = f.nCols;
    this.V = allocF32(n * this.d, ctx.sharedMemory);
    initInto(this.V, this.o, ctx.rng);
    this.w = allocF32(n, ctx.sharedMemory);
    this.bias = allocF32(1, ctx.sharedMemory);
    this.s = new Float32Array(this.d);
    this.gV = new RowGrads(n, this.d);
    this.gW = new RowGrads(n, 1);
    this.uV = ctx.optimizer.bind(this.V, n, this.d, ctx.sharedMemory);
    this.uW = ctx.optimizer.bind(this.w, n, 1, ctx.sharedMemory);
    this.uB = ctx.optimizer.bind(this.bias, 1, 1, ctx.sharedMemory);
    this.rng = ctx.rng;
    const id = this.layouts.find((l) => l.kind === "id");
    this.noId = id === undefined ? f : withoutRange(f, id.offset, id.offset + id.size);
  }

  /**
   * The "id" field's feature range and the dropout probability (p = 0: none). The fused kernel
   * (train/fm-kernel.ts) drops that range itself; the generic loop goes through forwardInto.
   */
  dropout(): { readonly from: number; readonly to: number; readonly p: number } {
    const p = this.idDropout;
    const id = this.layouts.find((l) => l.kind === "id");
    return p > 0 && id !== undefined
      ? { from: id.offset, to: id.offset + id.size, p }
      : { from: 0, to: 0, p: 0 };
  }

  /** Training forward: with idDropout, each row is encoded without its id with probability p. */
  forwardInto(ids: Int32Array, n: number, out: Float32Array): void {
    const p = this.idDropout;
    if (this.dropped.length < n) this.dropped = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.dropped[i] = p > 0 && this.rng !== null && this.rng.next() < p ? 1 : 0;
    this.encodeInto(ids, n, out, this.dropped);
  }

  /** The row of entity r, without the id field when `drop`: [from, to) of `csr`. */
  private rowOf(r: number, drop: boolean): { csr: Csr; from: number; to: number } {
    const c = drop ? (this.noId as Csr) : this.features;
    return { csr: c, from: c.offsets[r], to: c.offsets[r + 1] };
  }

  private encodeInto(ids: Int32Array, n: number, out: Float32Array, dropped: Uint8Array | null): void {
    const D = this.dim;
    const q = this.o.role === "query";
    for (let i = 0; i < n; i++) {
      const { csr, from, to } = this.rowOf(ids[i], dropped !== null && dropped[i] === 1);
      const a = fmSideInto(
        this.V,
        this.w,
        this.d,
        csr.indices,
        csr.values as Float32Array,
        from,
        to,
        out,
        i * D + 2,
      );
      out[i * D] = q ? 1 : a;
      out[i * D + 1] = q ? this.bias[0] + a : 1;
    }
  }

  /** Gradients for the rows of the last forwardInto (same ids, same dropped ids). */
  backward(ids: Int32Array, n: number, dOut: Float32Array): void {
    const d = this.d;
    const D = this.dim;
    const V = this.V;
    const s = this.s;
    const gV = this.gV as RowGrads;
    const gW = this.gW as RowGrads;
    const q = this.o.role === "query";
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const r = ids[i];
      const a = dOut[i * D + (q ? 1 : 0)];
      if (q) gb += a;
      const { csr: f, from, to } = this.rowOf(r, this.dropped[i] === 1);
      const val = f.values as Float32Array;
      s.fill(0);
      for (let e = from; e < to; e++) for (let j = 0; j < d; j++) s[j] += val[e] * V[f.indices[e] * d + j];
      for (let e = from; e < to; e++) {
        const x = val[e];
        const vo = f.indices[e] * d;
        gW.buf()[gW.offsetOf(f.indices[e])] += a * x;
        const off = gV.offsetOf(f.indices[e]);
        const buf = gV.buf();
        const go = i * D + 2;
        for (let j = 0; j < d; j++) buf[off + j] += a * x * (s[j] - x * V[vo + j]) + x * dOut[go + j];
      }
    }
    gV.flush(this.uV as RowUpdater);
    gW.flush(this.uW as RowUpdater);
    if (q) {
      this.gB[0] = gb;
      (this.uB as RowUpdater).update(0, this.gB, 0);
    }
  }

  /**
   * Serving vector (5-28) of every entity: [1, s_u] for the query side, [W_t + V_tt, s_t] for
   * items; n × (d + 1), row-major. Allocates.
   */
  servingAll(): Float32Array {
    const n = this.features.nRows;
    const D = this.d + 1;
    const out = new Float32Array(n * D);
    const f = this.features;
    for (let r = 0; r < n; r++) {
      const a = fmSideInto(
        this.V,
        this.w,
        this.d,
        f.indices,
        f.values as Float32Array,
        f.offsets[r],
        f.offsets[r + 1],
        out,
        r * D + 1,
      );
      out[r * D] = this.o.role === "query" ? 1 : a;
    }
    return out;
  }

  /** Names of the attribute fields (the ones a request's userFeatures can fill). */
  attributeFields(): string[] {
    return this.layouts.filter((f) => f.kind === "attribute").map((f) => f.spec);
  }

  /** Serving vector (d + 1) of an entity known only by feature values (cold start). Allocates. */
  servingVector(values: FmFeatureValues): Float32Array {
    const who = this.o.role === "query" ? "FmRecall.userVector" : "FmRecall.itemVector";
    const e = encodeFeatures(this.layouts, values, who);
    const out = new Float32Array(this.d + 1);
    const a = fmSideInto(this.V, this.w, this.d, e.indices, e.values, 0, e.indices.length, out, 1);
    out[0] = this.o.role === "query" ? 1 : a;
    return out;
  }

  /** Restores trained parameters and the field layout (serving only: no features matrix). */
  restore(layouts: FmFieldLayout[], V: Float32Array, w: Float32Array, bias: number): void {
    this.layouts = layouts;
    this.V = V;
    this.w = w;
    this.bias = Float32Array.of(bias);
  }

  exportAll(): Float32Array {
    const n = this.features.nRows;
    const out = new Float32Array(n * this.dim);
    const ids = Int32Array.from({ length: n }, (_, i) => i);
    this.encodeInto(ids, n, out, null);
    return out;
  }

  parameters(): Float32Array[] {
    return [this.V, this.w, this.bias];
  }
}

/** @example fmEncoder({ role: "item", dim: 64, fields: ["id", "genre", "year"] }) */
export function fmEncoder(o: FmEncoderOptions): FmEncoder {
  return new FmEncoder(o);
}
