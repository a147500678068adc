/**
 * A DNN tower (spec §5.5.3, YouTube/Covington RecSys'16): feature embeddings → MLP → vector.
 *
 *   input = [ e_id | mean(e_attr₁) | … | pool(e_hist) ]   (each block embDim wide)
 *   out   = MLP(input)                                    (hidden `layers`, linear output `dim`)
 *
 * - id: the entity's own row (−1 / dropped out: a zero block, so unseen users still get a vector);
 * - attributes: every value of each chosen attribute field of the side (user or item), averaged;
 * - history (user side): the entity's recent items (train log order, by time when the log has
 *   it; the last `maxLen`), pooled by mean or by attention whose query is the user profile
 *   (id + attribute blocks, SDM-style) or the last clicked item (CDR-style) — never the candidate,
 *   so the tower never sees the item it is scored against ("召回要求解耦").
 *
 * Embedding rows live in one table outside any dense framework and get sparse updates from the
 * recipe's optimizer (DESIGN §6); the MLP (dense.ts) is updated by the same optimizer.
 * In training the trainer can hand the batch's targets (`setTargets`): a row's own target is
 * then removed from its history, so the tower cannot learn "the positive is in the history".
 */
import { assert } from "../errors.ts";
import type { Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";
import { type Activation, checkActivation, Mlp } from "./dense.ts";
import { RowGrads } from "./row-grads.ts";
import type { TableStart } from "./spectral-init.ts";
import type { EncoderContext, RowUpdater, SparseOptimizer, TowerEncoder } from "./types.ts";

export interface TowerHistoryOptions {
  /** "mean" (default) or "attention". */
  readonly pooling?: "mean" | "attention" | undefined;
  /** Attention query: "profile" (id + attributes, default) or "last" (the last history item). */
  readonly query?: "profile" | "last" | undefined;
  /** Most recent items kept. Default 50. */
  readonly maxLen?: number | undefined;
  /**
   * The history item rows keep their start (pretrained item features, e.g. the spectral start):
   * no gradient reaches them. Mean pooling only; a training row's pooled mean then costs O(embDim)
   * from per-entity window sums instead of O(items · embDim), and no history row is updated —
   * at dim 256 on Gowalla those were most of an epoch. Default false.
   */
  readonly frozen?: boolean | undefined;
}

export interface TowerOptions {
  /** Which attribute table the tower reads: "user" (default) or "item". */
  readonly side?: "user" | "item" | undefined;
  /** Output width. Default 64. */
  readonly dim?: number | undefined;
  /** Width of every feature embedding block. Default 32. */
  readonly embDim?: number | undefined;
  /** Hidden layer widths (the output layer `dim` is added). Default [128]. */
  readonly layers?: readonly number[] | undefined;
  /**
   * false: no dense layer at all — the vector is the sum of the embedding blocks (needs layers []
   * and embDim = dim; the MF/SimpleX-style tower whose only parameters are embedding rows, and
   * whose batch costs no dense products). Default true.
   */
  readonly outputLayer?: boolean | undefined;
  /** Hidden activation. Default "relu". */
  readonly activation?: Activation | undefined;
  /** Embed the entity's id. Default true. */
  readonly id?: boolean | undefined;
  /** Attribute fields (names in the side's attribute table). Default all of them. */
  readonly attributes?: readonly string[] | undefined;
  /** Behaviour-sequence block. Default: `{ pooling: "mean" }` on the user side, none on the item side. */
  readonly history?: TowerHistoryOptions | false | undefined;
  /** In training, the id block is zeroed with this probability (teaches the no-id path). Default 0. */
  readonly idDropout?: number | undefined;
  /** N(0, s²) initial embeddings. Default 0.05. */
  readonly initScale?: number | undefined;
  /**
   * Rows written over the random start (e.g. `spectralStart`, spectral-init.ts). Needs a linear
   * tower (`layers: []`) with `embDim` = `dim`: its output layer then starts as the sum of the
   * blocks, so the tower's first vectors are the started rows (pooled), not a random mix of them.
   */
  readonly start?: TowerStart | undefined;
}

/** Start hooks for the tower's id rows (nRows × embDim) and history item rows (nItems × embDim). */
export interface TowerStart {
  readonly id?: TableStart | undefined;
  readonly history?: TableStart | undefined;
}

/** One entity's raw features, for online vectors of entities unseen in training. */
export interface TowerFeatures {
  /** Row of the id table; absent or −1: no id. */
  readonly id?: number | undefined;
  /** Field name → value indices (into the field's vocabulary). */
  readonly attributes?: Readonly<Record<string, ArrayLike<number>>> | undefined;
  /** Item ids, oldest first. */
  readonly history?: ArrayLike<number> | undefined;
}

/** What fixes a tower's parameter shapes (saved beside its parameters). */
export interface TowerShape {
  readonly nRows: number;
  readonly nItems: number;
  readonly fields: readonly { readonly name: string; readonly size: number }[];
}

interface HistoryConf {
  pooling: "mean" | "attention";
  query: "profile" | "last";
  maxLen: number;
  frozen: boolean;
}

interface RowsCsr {
  off: Int32Array;
  idx: Int32Array;
}

/** One batch's gathered inputs; `rows`: the entity rows, when a frozen history pools from window sums. */
interface BatchInputs {
  n: number;
  id: Int32Array;
  fields: RowsCsr[];
  hist: RowsCsr;
  rows?: Int32Array | null;
}

const CHUNK = 2048;

export class Tower implements TowerEncoder {
  readonly name: string;
  readonly dim: number;
  readonly table = null;
  readonly layers: readonly number[];
  readonly embDim: number;
  readonly side: "user" | "item";
  readonly useId: boolean;
  readonly hist: HistoryConf | null;
  private readonly idDropout: number;
  private shapeV: TowerShape | null = null;
  private emb = new Float32Array(0);
  /** The dense layers (null: `outputLayer: false`, the vector is the sum of the blocks). */
  private mlp: Mlp | null = null;
  private readonly dense: boolean;
  private dX = new Float32Array(0);
  private grads: RowGrads | null = null;
  private updater: RowUpdater | null = null;
  private rng: Rng | null = null;
  /** Per field: entity → values; history: entity → items (oldest first). */
  private fieldCsr: Csr[] = [];
  private histCsr: Csr | null = null;
  private fieldOff: number[] = [];
  private histOff = 0;
  /** Frozen history: each entity's sum of its last maxLen history rows (nRows × embDim). */
  private windowSums: Float32Array | null = null;
  private targets: Int32Array | null = null;
  private training = false;
  // cached batch
  private x = new Float32Array(0);
  private inp: BatchInputs | null = null;
  private att = new Float32Array(0);
  private qv = new Float32Array(0);

  constructor(private readonly o: TowerOptions = {}) {
    this.side = o.side ?? "user";
    assert(
      this.side === "user" || this.side === "item",
      () => `encoders.tower: side must be "user" or "item"`,
    );
    this.dim = o.dim ?? 64;
    this.embDim = o.embDim ?? 32;
    this.layers = [...(o.layers ?? [128])];
    for (const v of [this.dim, this.embDim, ...this.layers])
      assert(Number.isInteger(v) && v >= 1, () => `encoders.tower: widths must be integers ≥ 1, got ${v}`);
    checkActivation(o.activation ?? "relu", "encoders.tower");
    this.useId = o.id ?? true;
    const h = o.history ?? (this.side === "user" ? {} : false);
    this.hist =
      h === false
        ? null
        : {
            pooling: h.pooling ?? "mean",
            query: h.query ?? "profile",
            maxLen: h.maxLen ?? 50,
            frozen: h.frozen ?? false,
          };
    if (this.hist !== null) {
      assert(
        this.hist.pooling === "mean" || this.hist.pooling === "attention",
        () => `encoders.tower: history.pooling must be "mean" or "attention", got "${this.hist?.pooling}"`,
      );
      assert(
        this.hist.query === "profile" || this.hist.query === "last",
        () => `encoders.tower: history.query must be "profile" or "last", got "${this.hist?.query}"`,
      );
      assert(
        Number.isInteger(this.hist.maxLen) && this.hist.maxLen >= 1,
        () => `encoders.tower: history.maxLen must be an integer ≥ 1, got ${this.hist?.maxLen}`,
      );
      assert(
        !this.hist.frozen || this.hist.pooling === "mean",
        () => `encoders.tower: a frozen history needs mean pooling`,
      );
    }
    this.dense = o.outputLayer ?? true;
    if (o.start !== undefined || !this.dense)
      assert(
        this.layers.length === 0 && this.embDim === this.dim,
        () =>
          `encoders.tower: ${this.dense ? "a start" : "outputLayer false"} needs layers [] and embDim = dim (got layers [${this.layers}], embDim ${this.embDim}, dim ${this.dim})`,
      );
    this.idDropout = o.idDropout ?? 0;
    assert(
      this.idDropout >= 0 && this.idDropout < 1,
      () => `encoders.tower: idDropout must be in [0, 1), got ${this.idDropout}`,
    );
    const pool =
      this.hist === null
        ? ""
        : `, hist:${this.hist.pooling}${this.hist.pooling === "attention" ? `(${this.hist.query})` : ""}`;
    const widths = this.dense ? [this.embDim, ...this.layers, this.dim].join("→") : `Σ blocks ${this.dim}`;
    this.name = `tower(${this.side}${this.useId ? ", id" : ""}${pool}, ${widths})`;
  }

  /** Shapes once prepared (or restored). */
  get shape(): TowerShape {
    assert(this.shapeV !== null, () => "encoders.tower: prepare() or restore() first");
    return this.shapeV;
  }

  /** Attribute fields used, in block order. */
  get fieldNames(): string[] {
    return this.shape.fields.map((f) => f.name);
  }

  prepare(ctx: EncoderContext): void {
    const data = ctx.data;
    const table = this.side === "user" ? data.userAttributes : data.itemAttributes;
    const names = this.o.attributes ?? [...table.keys()];
    const fields: { name: string; size: number }[] = [];
    this.fieldCsr = [];
    for (const name of names) {
      const f = table.get(name);
      assert(
        f !== undefined,
        () =>
          `encoders.tower: no ${this.side} attribute "${name}" (have: ${[...table.keys()].join(", ") || "none"})`,
      );
      if (f.csr.nRows !== ctx.nRows) {
        assert(
          this.o.attributes === undefined,
          () => `encoders.tower: attribute "${name}" has ${f.csr.nRows} rows, the id space has ${ctx.nRows}`,
        );
        continue; // default field list: skip fields of another id space (U2U halves)
      }
      fields.push({ name, size: f.vocab.size });
      this.fieldCsr.push(f.csr);
    }
    if (this.hist !== null) this.histCsr = ctx.bags ?? historyCsr(data, ctx.nRows);
    this.build({ nRows: ctx.nRows, nItems: data.items.size, fields }, ctx.optimizer, ctx.rng);
    if (this.o.start !== undefined) this.applyStart(this.o.start, ctx);
    if (this.hist?.frozen === true) this.windowSums = this.sumWindows(this.histCsr as Csr);
  }

  /** Per entity: the sum of the (frozen) rows of its last maxLen history items. */
  private sumWindows(h: Csr): Float32Array {
    const e = this.embDim;
    const E = this.emb;
    const out = new Float32Array(h.nRows * e);
    const maxLen = (this.hist as HistoryConf).maxLen;
    for (let r = 0; r < h.nRows; r++) {
      const b = h.offsets[r + 1];
      for (let p = Math.max(h.offsets[r], b - maxLen); p < b; p++) {
        const o = (this.histOff + h.indices[p]) * e;
        for (let j = 0; j < e; j++) out[r * e + j] += E[o + j];
      }
    }
    return out;
  }

  /** Started rows into the id/history blocks; the output layer becomes the block sum. */
  private applyStart(st: TowerStart, ctx: EncoderContext): void {
    const e = this.embDim;
    const { nRows, nItems } = this.shape;
    if (this.useId && st.id !== undefined) st.id(ctx, this.emb.subarray(0, nRows * e), e);
    if (this.hist !== null && st.history !== undefined)
      st.history(ctx, this.emb.subarray(this.histOff * e, (this.histOff + nItems) * e), e);
    if (this.mlp === null) return;
    const [W, b] = this.mlp.parameters();
    const inW = this.nBlocks() * e;
    W.fill(0);
    b.fill(0);
    for (let blk = 0; blk < this.nBlocks(); blk++) for (let j = 0; j < e; j++) W[j * inW + blk * e + j] = 1;
  }

  /** Allocates parameters for `shape`, initialises them from rng and binds the optimizer. */
  build(shape: TowerShape, opt: SparseOptimizer | null, rng: Rng): void {
    this.shapeV = shape;
    this.rng = rng;
    const e = this.embDim;
    let rows = this.useId ? shape.nRows : 0;
    this.fieldOff = shape.fields.map((f) => {
      const o = rows;
      rows += f.size;
      return o;
    });
    this.histOff = rows;
    if (this.hist !== null) rows += shape.nItems;
    const blocks = this.nBlocks();
    assert(blocks > 0, () => "encoders.tower: no input (id, attributes and history are all off)");
    this.emb = new Float32Array(rows * e);
    const s = this.o.initScale ?? 0.05;
    for (let k = 0; k < this.emb.length; k++) this.emb[k] = s * rng.normal();
    this.mlp = this.dense
      ? new Mlp(blocks * e, [...this.layers, this.dim], this.o.activation ?? "relu")
      : null;
    this.mlp?.init(rng);
    this.grads = new RowGrads(Math.max(1, rows), e);
    if (opt !== null) {
      this.updater = opt.bind(this.emb, rows, e, false);
      this.mlp?.bind(opt);
    }
  }

  /** Serving-only: shapes and parameters from a saved tower (no history source: pass features). */
  restore(shape: TowerShape, params: readonly Float32Array[], rng: Rng): void {
    this.build(shape, null, rng);
    const mine = this.parameters();
    assert(
      params.length === mine.length,
      () => `encoders.tower: ${params.length} saved arrays, expected ${mine.length}`,
      "RK_ERR_ARTIFACT",
    );
    mine.forEach((p, k) => {
      assert(
        params[k].length === p.length,
        () => `encoders.tower: saved array ${k} has ${params[k].length} values, expected ${p.length}`,
        "RK_ERR_ARTIFACT",
      );
      p.set(params[k]);
    });
  }

  private nBlocks(): number {
    return (this.useId ? 1 : 0) + this.fieldOff.length + (this.hist !== null ? 1 : 0);
  }

  /** Training mode (id dropout on) and the batch targets to drop from each row's history. */
  setTraining(on: boolean): void {
    this.training = on;
    if (!on) this.targets = null;
  }
  setTargets(targets: Int32Array | null): void {
    this.targets = targets;
  }

  /** The history source (entity → items), when the tower has one. */
  history(): Csr | null {
    return this.histCsr;
  }

  forwardInto(ids: Int32Array, n: number, out: Float32Array): void {
    this.run(this.inputsOf(ids, n), out);
  }

  /** Vectors of entities described by raw features (online serving; no training state). */
  forwardFeatures(rows: readonly TowerFeatures[], out: Float32Array): void {
    const names = this.fieldNames;
    const n = rows.length;
    const id = new Int32Array(n);
    const fields = names.map(() => ({ off: new Int32Array(n + 1), idx: [] as number[] }));
    const hOff = new Int32Array(n + 1);
    const hIdx: number[] = [];
    const { nRows, nItems } = this.shape;
    rows.forEach((r, i) => {
      const v = r.id ?? -1;
      assert(
        Number.isInteger(v) && v >= -1 && v < nRows,
        () => `encoders.tower: id ${v} is outside [-1, ${nRows})`,
      );
      id[i] = this.useId ? v : -1;
      names.forEach((name, k) => {
        const vals = r.attributes?.[name] ?? [];
        const size = this.shape.fields[k].size;
        for (let j = 0; j < vals.length; j++) {
          assert(
            Number.isInteger(vals[j]) && vals[j] >= 0 && vals[j] < size,
            () => `encoders.tower: ${name} value ${vals[j]} is outside [0, ${size})`,
          );
          fields[k].idx.push(vals[j]);
        }
        fields[k].off[i + 1] = fields[k].idx.length;
      });
      const h = r.history ?? [];
      const from = this.hist === null ? h.length : Math.max(0, h.length - this.hist.maxLen);
      for (let j = from; j < h.length; j++) {
        assert(
          Number.isInteger(h[j]) && h[j] >= 0 && h[j] < nItems,
          () => `encoders.tower: history item ${h[j]} is outside [0, ${nItems})`,
        );
        hIdx.push(h[j]);
      }
      hOff[i + 1] = hIdx.length;
    });
    this.run(
      {
        n,
        id,
        fields: fields.map((f) => ({ off: f.off, idx: Int32Array.from(f.idx) })),
        hist: { off: hOff, idx: Int32Array.from(hIdx) },
      },
      out,
    );
  }

  private inputsOf(ids: Int32Array, n: number): BatchInputs {
    const rng = this.rng as Rng;
    const id = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      id[i] = this.useId ? ids[i] : -1;
      if (this.training && this.idDropout > 0 && rng.next() < this.idDropout) id[i] = -1;
    }
    const fields = this.fieldCsr.map((c) => {
      const off = new Int32Array(n + 1);
      let len = 0;
      for (let i = 0; i < n; i++) {
        len += c.offsets[ids[i] + 1] - c.offsets[ids[i]];
        off[i + 1] = len;
      }
      const idx = new Int32Array(len);
      for (let i = 0; i < n; i++)
        idx.set(c.indices.subarray(c.offsets[ids[i]], c.offsets[ids[i] + 1]), off[i]);
      return { off, idx };
    });
    const hOff = new Int32Array(n + 1);
    let hIdx = new Int32Array(0);
    const h = this.histCsr;
    if (this.hist !== null && h !== null && this.windowSums === null) {
      const maxLen = this.hist.maxLen;
      hIdx = new Int32Array(n * maxLen);
      let len = 0;
      const tg = this.training ? this.targets : null;
      for (let i = 0; i < n; i++) {
        const a = h.offsets[ids[i]];
        let b = h.offsets[ids[i] + 1];
        const t = tg === null ? -1 : tg[i];
        // newest first until maxLen, skipping the row's own target
        let kept = 0;
        const start = len;
        for (let e = b - 1; e >= a && kept < maxLen; e--) {
          if (h.indices[e] === t) continue;
          kept++;
        }
        b = start + kept;
        let w = b;
        for (let e = h.offsets[ids[i] + 1] - 1; e >= a && w > start; e--) {
          if (h.indices[e] === t) continue;
          hIdx[--w] = h.indices[e];
        }
        len = b;
        hOff[i + 1] = len;
      }
      hIdx = hIdx.subarray(0, len);
    }
    return { n, id, fields, hist: { off: hOff, idx: hIdx }, rows: this.windowSums === null ? null : ids };
  }

  private run(inp: BatchInputs, out: Float32Array): void {
    const { n } = inp;
    const e = this.embDim;
    const W = this.nBlocks() * e;
    if (this.x.length < n * W) this.x = new Float32Array(n * W);
    const x = this.x;
    x.fill(0, 0, n * W);
    const E = this.emb;
    for (let i = 0; i < n; i++) {
      let b = i * W;
      if (this.useId) {
        const r = inp.id[i];
        if (r >= 0) for (let j = 0; j < e; j++) x[b + j] = E[r * e + j];
        b += e;
      }
      for (let k = 0; k < inp.fields.length; k++) {
        const f = inp.fields[k];
        const len = f.off[i + 1] - f.off[i];
        if (len > 0) {
          const inv = 1 / len;
          for (let p = f.off[i]; p < f.off[i + 1]; p++) {
            const o = (this.fieldOff[k] + f.idx[p]) * e;
            for (let j = 0; j < e; j++) x[b + j] += inv * E[o + j];
          }
        }
        b += e;
      }
    }
    if (this.hist !== null) {
      if (inp.rows !== undefined && inp.rows !== null) this.poolFrozen(inp.rows, inp.n, x, W);
      else this.poolHistory(inp, x, W);
    }
    this.inp = inp;
    if (this.mlp !== null) {
      out.set(this.mlp.forward(x, n).subarray(0, n * this.dim));
      return;
    }
    const nb = this.nBlocks();
    for (let i = 0; i < n; i++)
      for (let j = 0; j < e; j++) {
        let v = 0;
        for (let k = 0; k < nb; k++) v += x[i * W + k * e + j];
        out[i * e + j] = v;
      }
  }

  /** Profile query of row i: the id block plus the attribute blocks (written into q at qo). */
  private profileInto(x: Float32Array, W: number, i: number, q: Float32Array, qo: number): void {
    const e = this.embDim;
    const nb = (this.useId ? 1 : 0) + this.fieldOff.length;
    q.fill(0, qo, qo + e);
    for (let k = 0; k < nb; k++) for (let j = 0; j < e; j++) q[qo + j] += x[i * W + k * e + j];
  }

  /**
   * Mean pooling of frozen rows from the window sums: the same kept set as `inputsOf` (the newest
   * maxLen items other than the row's training target), as the window sum minus the target's
   * occurrences plus as many older items in their place — O(embDim) unless the target is there.
   */
  private poolFrozen(ids: Int32Array, n: number, x: Float32Array, W: number): void {
    const e = this.embDim;
    const E = this.emb;
    const S = this.windowSums as Float32Array;
    const h = this.histCsr as Csr;
    const maxLen = (this.hist as HistoryConf).maxLen;
    const tg = this.training ? this.targets : null;
    const b0 = W - e;
    for (let i = 0; i < n; i++) {
      const r = ids[i];
      const a = h.offsets[r];
      const b = h.offsets[r + 1];
      const w0 = Math.max(a, b - maxLen);
      const t = tg === null ? -1 : tg[i];
      let hits = 0;
      if (t >= 0) for (let p = w0; p < b; p++) if (h.indices[p] === t) hits++;
      let count = b - w0 - hits;
      const xo = i * W + b0;
      for (let j = 0; j < e; j++) x[xo + j] = S[r * e + j];
      if (hits > 0) {
        const ot = (this.histOff + t) * e;
        for (let j = 0; j < e; j++) x[xo + j] -= hits * E[ot + j];
        for (let p = w0 - 1, need = hits; p >= a && need > 0; p--) {
          if (h.indices[p] === t) continue;
          const o = (this.histOff + h.indices[p]) * e;
          for (let j = 0; j < e; j++) x[xo + j] += E[o + j];
          need--;
          count++;
        }
      }
      const inv = count > 0 ? 1 / count : 0;
      for (let j = 0; j < e; j++) x[xo + j] *= inv;
    }
  }

  private poolHistory(inp: { n: number; hist: RowsCsr }, x: Float32Array, W: number): void {
    const hp = this.hist as HistoryConf;
    const e = this.embDim;
    const E = this.emb;
    const { off, idx } = inp.hist;
    const b0 = W - e;
    if (hp.pooling === "mean") {
      for (let i = 0; i < inp.n; i++) {
        const len = off[i + 1] - off[i];
        if (len === 0) continue;
        const inv = 1 / len;
        for (let p = off[i]; p < off[i + 1]; p++) {
          const o = (this.histOff + idx[p]) * e;
          for (let j = 0; j < e; j++) x[i * W + b0 + j] += inv * E[o + j];
        }
      }
      return;
    }
    if (this.att.length < idx.length) this.att = new Float32Array(idx.length);
    if (this.qv.length < inp.n * e) this.qv = new Float32Array(inp.n * e);
    const a = this.att;
    const q = this.qv;
    const sc = 1 / Math.sqrt(e);
    for (let i = 0; i < inp.n; i++) {
      const s0 = off[i];
      const s1 = off[i + 1];
      if (s1 === s0) {
        q.fill(0, i * e, (i + 1) * e);
        continue;
      }
      if (hp.query === "profile") this.profileInto(x, W, i, q, i * e);
      else {
        const o = (this.histOff + idx[s1 - 1]) * e;
        for (let j = 0; j < e; j++) q[i * e + j] = E[o + j];
      }
      let mx = Number.NEGATIVE_INFINITY;
      for (let p = s0; p < s1; p++) {
        const o = (this.histOff + idx[p]) * e;
        let s = 0;
        for (let j = 0; j < e; j++) s += q[i * e + j] * E[o + j];
        a[p] = s * sc;
        if (a[p] > mx) mx = a[p];
      }
      let z = 0;
      for (let p = s0; p < s1; p++) {
        a[p] = Math.exp(a[p] - mx);
        z += a[p];
      }
      for (let p = s0; p < s1; p++) {
        a[p] /= z;
        const o = (this.histOff + idx[p]) * e;
        for (let j = 0; j < e; j++) x[i * W + b0 + j] += a[p] * E[o + j];
      }
    }
  }

  backward(_ids: Int32Array, n: number, dOut: Float32Array): void {
    const inp = this.inp;
    assert(
      inp !== null && inp.n === n,
      () => "encoders.tower: backward must follow forwardInto of the same batch",
    );
    let dX: Float32Array;
    if (this.mlp !== null) dX = this.mlp.backward(dOut, this.updater !== null);
    else {
      // the block sum's gradient: every block receives dOut
      const e = this.embDim;
      const nb = this.nBlocks();
      if (this.dX.length < n * nb * e) this.dX = new Float32Array(n * nb * e);
      dX = this.dX;
      for (let i = 0; i < n; i++)
        for (let k = 0; k < nb; k++) dX.set(dOut.subarray(i * e, (i + 1) * e), (i * nb + k) * e);
    }
    this.scatter(inp, dX);
    if (this.updater !== null) (this.grads as RowGrads).flush(this.updater);
  }

  /** The gradient w.r.t. every embedding row, into rows of `g` (tests): accumulates, no update. */
  private scatter(inp: BatchInputs, dX: Float32Array): void {
    const g = this.grads as RowGrads;
    const e = this.embDim;
    const W = this.nBlocks() * e;
    const E = this.emb;
    const add = (row: number, src: Float32Array, so: number, w: number) => {
      const off = g.offsetOf(row);
      const buf = g.buf();
      for (let j = 0; j < e; j++) buf[off + j] += w * src[so + j];
    };
    // attention: the query's gradient joins the profile blocks (or the last item's row)
    let dq: Float32Array | null = null;
    if (this.hist !== null && this.hist.pooling === "attention") {
      dq = new Float32Array(inp.n * e);
      const { off, idx } = inp.hist;
      const a = this.att;
      const q = this.qv;
      const sc = 1 / Math.sqrt(e);
      const b0 = W - e;
      for (let i = 0; i < inp.n; i++) {
        const s0 = off[i];
        const s1 = off[i + 1];
        if (s1 === s0) continue;
        const dp = i * W + b0;
        // g_p = dp·h_p; ds_p = a_p (g_p − Σ a g)
        let ag = 0;
        const gp = new Float64Array(s1 - s0);
        for (let p = s0; p < s1; p++) {
          const o = (this.histOff + idx[p]) * e;
          let s = 0;
          for (let j = 0; j < e; j++) s += dX[dp + j] * E[o + j];
          gp[p - s0] = s;
          ag += a[p] * s;
        }
        for (let p = s0; p < s1; p++) {
          const ds = a[p] * (gp[p - s0] - ag) * sc;
          const row = this.histOff + idx[p];
          const o = row * e;
          const off2 = g.offsetOf(row);
          const buf = g.buf();
          for (let j = 0; j < e; j++) {
            buf[off2 + j] += a[p] * dX[dp + j] + ds * q[i * e + j];
            dq[i * e + j] += ds * E[o + j];
          }
        }
        if (this.hist.query === "last") add(this.histOff + idx[s1 - 1], dq, i * e, 1);
      }
    }
    const profile = dq !== null && this.hist?.query === "profile";
    for (let i = 0; i < inp.n; i++) {
      let b = i * W;
      if (this.useId) {
        const r = inp.id[i];
        if (r >= 0) {
          add(r, dX, b, 1);
          if (profile) add(r, dq as Float32Array, i * e, 1);
        }
        b += e;
      }
      for (let k = 0; k < inp.fields.length; k++) {
        const f = inp.fields[k];
        const len = f.off[i + 1] - f.off[i];
        for (let p = f.off[i]; p < f.off[i + 1]; p++) {
          add(this.fieldOff[k] + f.idx[p], dX, b, 1 / len);
          if (profile) add(this.fieldOff[k] + f.idx[p], dq as Float32Array, i * e, 1 / len);
        }
        b += e;
      }
      if (this.hist !== null && this.hist.pooling === "mean" && !this.hist.frozen) {
        const { off, idx } = inp.hist;
        const len = off[i + 1] - off[i];
        for (let p = off[i]; p < off[i + 1]; p++) add(this.histOff + idx[p], dX, b, 1 / len);
      }
    }
  }

  exportAll(): Float32Array {
    const nRows = this.shape.nRows;
    const out = new Float32Array(nRows * this.dim);
    const was = this.training;
    this.training = false;
    const ids = new Int32Array(CHUNK);
    const buf = new Float32Array(CHUNK * this.dim);
    for (let r0 = 0; r0 < nRows; r0 += CHUNK) {
      const m = Math.min(CHUNK, nRows - r0);
      for (let i = 0; i < m; i++) ids[i] = r0 + i;
      this.forwardInto(ids, m, buf);
      out.set(buf.subarray(0, m * this.dim), r0 * this.dim);
    }
    this.training = was;
    this.inp = null;
    return out;
  }

  parameters(): Float32Array[] {
    return [this.emb, ...(this.mlp?.parameters() ?? [])];
  }
}

/** Entity → its training items, oldest first (by time when the log has it, else log order). */
export function historyCsr(data: Dataset, nRows: number): Csr {
  const log = data.train;
  const n = log.length;
  const order = Int32Array.from({ length: n }, (_, e) => e);
  const ts = log.ts;
  if (ts !== null) order.sort((a, b) => ts[a] - ts[b] || a - b);
  const offsets = new Int32Array(nRows + 1);
  for (let e = 0; e < n; e++) if (log.users[e] < nRows) offsets[log.users[e] + 1]++;
  for (let u = 0; u < nRows; u++) offsets[u + 1] += offsets[u];
  const fill = offsets.slice(0, nRows);
  const indices = new Int32Array(offsets[nRows]);
  for (let k = 0; k < n; k++) {
    const e = order[k];
    const u = log.users[e];
    if (u < nRows) indices[fill[u]++] = log.items[e];
  }
  return { nRows, nCols: data.items.size, offsets, indices, values: null };
}

/** @example encoders.tower({ side: "user", layers: [256], history: { pooling: "attention", query: "last" } }) */
export function tower(o: TowerOptions = {}): Tower {
  return new Tower(o);
}
