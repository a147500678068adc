/**
 * EGES kernel (spec §5.3.3): skip-gram + NEG over walk sequences where the input vector of item
 * v is a weighted sum of its 1 + n side-information embeddings (field 0 = the item id):
 *
 *   H_v = Σ_j w_vj · W[slot(v, j)],   w_v = softmax(a_v) (5-20) or uniform 1/(n+1) (5-19),
 *
 * over the fields v has (a missing attribute drops out and the weights renormalise). One NEG
 * step per (input v, output o) with c = the context table (`syn1`), then back through H:
 *
 *   e = Σ_targets g·c_t                          (g = (label − σ(H·c_t))·lr, as in sgns.ts)
 *   W[slot(v, j)] += w_vj · e
 *   a_vj += w_vj · (W_j − H) · e                  (softmax Jacobian; attention mode only)
 *
 * Runs in-process (`workers: 0`: exact, deterministic) or Hogwild across worker threads
 * (`trainEges`: W, A and syn1 in SharedArrayBuffers, each worker on its slice of every epoch's
 * shuffled walk order, lost updates accepted as in sgns-train.ts).
 */
import { AliasTable } from "../math/alias.ts";
import type { Rng } from "../math/rng.ts";
import { WorkerPool, workerUrl } from "../workers.ts";
import { EXP_TABLE_SIZE, MAX_EXP, sigmoidTable, sliceByWords } from "./sgns.ts";

export interface EgesTables {
  /** All fields' rows stacked: rows × dim. */
  readonly W: Float32Array;
  /** nItems × nFields attention logits a_vj. */
  readonly A: Float32Array;
  /** nItems × dim context table. */
  readonly syn1: Float32Array;
  /** nItems × nFields row of W for (item, field), −1 when the item lacks the field. */
  readonly slots: Int32Array;
  readonly nFields: number;
  readonly dim: number;
}

export interface EgesConfig {
  readonly window: number;
  readonly negative: number;
  readonly alpha: number;
  readonly minAlpha: number;
  readonly epochs: number;
  readonly attention: boolean;
}

/** w[0..nFields) = item v's field weights (0 for missing fields); returns how many are present. */
export function fieldWeightsInto(t: EgesTables, v: number, attention: boolean, w: Float64Array): number {
  const nF = t.nFields;
  let max = Number.NEGATIVE_INFINITY;
  let present = 0;
  for (let f = 0; f < nF; f++)
    if (t.slots[v * nF + f] >= 0) {
      present++;
      if (t.A[v * nF + f] > max) max = t.A[v * nF + f];
    }
  let z = 0;
  for (let f = 0; f < nF; f++) {
    const on = t.slots[v * nF + f] >= 0;
    w[f] = on ? (attention ? Math.exp(t.A[v * nF + f] - max) : 1) : 0;
    z += w[f];
  }
  if (z > 0) for (let f = 0; f < nF; f++) w[f] /= z;
  return present;
}

/** out[off..off+dim) = Σ_j w_j·W[slot_j] for the fields `from..nFields` of v, uniform weights when `w` null. */
export function combineInto(
  t: EgesTables,
  v: number,
  w: Float64Array | null,
  fromField: number,
  out: Float32Array | Float64Array,
  off: number,
): number {
  const { W, slots, nFields: nF, dim } = t;
  for (let j = 0; j < dim; j++) out[off + j] = 0;
  let n = 0;
  for (let f = fromField; f < nF; f++) if (slots[v * nF + f] >= 0) n++;
  if (n === 0) return 0;
  for (let f = fromField; f < nF; f++) {
    const r = slots[v * nF + f];
    if (r < 0) continue;
    const c = w === null ? 1 / n : w[f];
    for (let j = 0; j < dim; j++) out[off + j] += c * W[r * dim + j];
  }
  return n;
}

export class EgesScratch {
  readonly w: Float64Array;
  readonly h: Float64Array;
  readonly e: Float64Array;
  readonly exp = sigmoidTable();
  constructor(nFields: number, dim: number) {
    this.w = new Float64Array(nFields);
    this.h = new Float64Array(dim);
    this.e = new Float64Array(dim);
  }
}

/**
 * One epoch over walks order[from..to) (default: all); lr decays linearly over `epochs` by the raw
 * tokens of the slice, `sliceWords` per epoch (default: all walks' tokens), as in sgns.ts.
 */
export function egesRange(
  t: EgesTables,
  cfg: EgesConfig,
  alias: AliasTable,
  offsets: Int32Array,
  tokens: Int32Array,
  order: Int32Array,
  epoch: number,
  rng: Rng,
  sc: EgesScratch,
  from = 0,
  to = order.length,
  sliceWords = offsets[offsets.length - 1],
): void {
  const { W, A, syn1, slots, nFields: nF, dim } = t;
  const { window, negative, alpha, minAlpha, epochs, attention } = cfg;
  const { w, h, e, exp } = sc;
  const total = Math.max(1, sliceWords * epochs);
  let raw = epoch * sliceWords;
  for (let p = from; p < to; p++) {
    const s = order[p];
    const a = offsets[s];
    const len = offsets[s + 1] - a;
    raw += len;
    const lr = Math.max(minAlpha, alpha - ((alpha - minAlpha) * raw) / total);
    for (let i = 0; i < len; i++) {
      const o = tokens[a + i];
      const bw = 1 + Math.floor(rng.next() * window);
      const lo = Math.max(i - bw, 0);
      const hi = i + bw >= len ? len - 1 : i + bw;
      for (let jj = lo; jj <= hi; jj++) {
        if (jj === i) continue;
        const v = tokens[a + jj];
        fieldWeightsInto(t, v, attention, w);
        combineInto(t, v, w, 0, h, 0);
        for (let j = 0; j < dim; j++) e[j] = 0;
        for (let q = 0; q <= negative; q++) {
          const c = q === 0 ? o : alias.sample(rng);
          if (q > 0 && c === o) continue;
          const ro = c * dim;
          let f = 0;
          for (let j = 0; j < dim; j++) f += h[j] * syn1[ro + j];
          const sg =
            f >= MAX_EXP ? 1 : f <= -MAX_EXP ? 0 : exp[((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2)) | 0];
          const g = ((q === 0 ? 1 : 0) - sg) * lr;
          for (let j = 0; j < dim; j++) {
            e[j] += g * syn1[ro + j];
            syn1[ro + j] += g * h[j];
          }
        }
        let he = 0;
        if (attention) for (let j = 0; j < dim; j++) he += h[j] * e[j];
        for (let f = 0; f < nF; f++) {
          const r = slots[v * nF + f];
          if (r < 0) continue;
          const ro = r * dim;
          if (attention) {
            let we = 0;
            for (let j = 0; j < dim; j++) we += W[ro + j] * e[j];
            A[v * nF + f] += w[f] * (we - he);
          }
          for (let j = 0; j < dim; j++) W[ro + j] += w[f] * e[j];
        }
      }
    }
  }
}

/** What each EGES Hogwild worker gets once (views over SharedArrayBuffers). */
export interface EgesWorkerInit {
  readonly kind: "eges";
  readonly t: EgesTables;
  readonly cfg: EgesConfig;
  readonly negWeights: Float64Array;
  readonly offsets: Int32Array;
  readonly tokens: Int32Array;
  readonly order: Int32Array;
}

export interface EgesJob {
  readonly from: number;
  readonly to: number;
  readonly epoch: number;
  readonly sliceWords: number;
  readonly seed: number;
}

function toShared<T extends Int32Array | Float32Array | Float64Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const C = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new C(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/**
 * All epochs of EGES over the walks: in-process with `workers` = 0, else Hogwild across that many
 * worker threads (sgns.worker.ts runs `egesRange` on each slice). Trains `t` in place; the walk
 * order is reshuffled with `rng` every epoch. Returns the training seconds.
 */
export async function trainEges(
  t: EgesTables,
  cfg: EgesConfig,
  negWeights: Float64Array,
  offsets: Int32Array,
  tokens: Int32Array,
  rng: Rng,
  workers: number,
): Promise<number> {
  const nSeq = offsets.length - 1;
  const t0 = performance.now();
  if (workers <= 0) {
    const alias = new AliasTable(negWeights);
    const order = Int32Array.from({ length: nSeq }, (_, s) => s);
    const sc = new EgesScratch(t.nFields, t.dim);
    for (let ep = 0; ep < cfg.epochs; ep++) {
      rng.shuffle(order);
      egesRange(t, cfg, alias, offsets, tokens, order, ep, rng, sc);
    }
    return (performance.now() - t0) / 1000;
  }
  const st: EgesTables = {
    W: toShared(t.W),
    A: toShared(t.A),
    syn1: toShared(t.syn1),
    slots: toShared(t.slots),
    nFields: t.nFields,
    dim: t.dim,
  };
  const init: EgesWorkerInit = {
    kind: "eges",
    t: st,
    cfg,
    negWeights: toShared(negWeights),
    offsets: toShared(offsets),
    tokens: toShared(tokens),
    order: toShared(Int32Array.from({ length: nSeq }, (_, s) => s)),
  };
  const pool = await WorkerPool.start<EgesJob>(workerUrl("./sgns.worker", import.meta.url), workers, init);
  try {
    for (let ep = 0; ep < cfg.epochs; ep++) {
      rng.shuffle(init.order);
      const cuts = sliceByWords(init.order, offsets, workers);
      const seedBase = rng.nextU32();
      await pool.all((i) => {
        let w = 0;
        for (let p = cuts[i]; p < cuts[i + 1]; p++) w += offsets[init.order[p] + 1] - offsets[init.order[p]];
        return { from: cuts[i], to: cuts[i + 1], epoch: ep, sliceWords: w, seed: (seedBase + i) >>> 0 };
      });
    }
  } finally {
    await pool.close();
  }
  t.W.set(st.W);
  t.A.set(st.A);
  t.syn1.set(st.syn1);
  return (performance.now() - t0) / 1000;
}
