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
 * Runs in-process (exact, deterministic); sized for session graphs, not yet Hogwild.
 */
import type { AliasTable } from "../math/alias.ts";
import type { Rng } from "../math/rng.ts";
import { EXP_TABLE_SIZE, MAX_EXP, sigmoidTable } from "./sgns.ts";

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

/** One epoch over walks order[from..to); lr decays linearly over `epochs` by raw tokens. */
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
): void {
  const { W, A, syn1, slots, nFields: nF, dim } = t;
  const { window, negative, alpha, minAlpha, epochs, attention } = cfg;
  const { w, h, e, exp } = sc;
  const total = offsets[offsets.length - 1] * epochs;
  let raw = epoch * offsets[offsets.length - 1];
  for (let p = 0; p < order.length; p++) {
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
