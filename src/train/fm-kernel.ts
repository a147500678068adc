/**
 * Fused per-triple SGD kernel for FM recall with a pairwise loss (BPR, spec 5-29): one pass per
 * (u, t⁺, t⁻) reads the three entities' feature rows, computes
 *
 *   x = FM(u, t⁺) − FM(u, t⁻) = (a⁺ − a⁻) + s_u·(s⁺ − s⁻),   a = W_t + V_tt,  s = Σ x_i v_i
 *
 * (b, W_u and V_uu cancel in the difference), g = ℓ'(x) (BPR: −σ(−x)), and updates every
 * feature row touched, in place (w ← w − lr·(∂ + l2·w)):
 *
 *   user feature i:   v_i −= lr·(g·x_i·(s⁺ − s⁻) + l2·v_i)
 *   t⁺ feature i:     w_i −= lr·(g·x_i + l2·w_i);   v_i −= lr·(g·(x_i(s⁺ − x_i v_i) + x_i s_u) + l2·v_i)
 *   t⁻ feature i:     as t⁺ with −g and s⁻.
 *
 * Gradients are taken at the triple's starting point (s_u, s⁺, s⁻ computed first), as the
 * generic loop with batch size 1 does; a feature shared by t⁺ and t⁻ gets both steps in turn.
 * The same function runs in-process (`workers: 0`, exact) and in Hogwild workers (fm.worker.ts)
 * over SharedArrayBuffer tables; the races are those documented in hogwild.ts.
 */
import type { PairwiseForm } from "../losses/types.ts";
import type { AliasTable } from "../math/alias.ts";
import type { Rng } from "../math/rng.ts";

/** One FM side's parameters and feature rows (flat arrays; shared under Hogwild). */
export interface FmSideTables {
  readonly V: Float32Array;
  readonly w: Float32Array;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

/** Per-caller scratch: s_u, s⁺, s⁻ (d each) and the loss/grad pair. */
export class FmScratch {
  readonly su: Float64Array;
  readonly sp: Float64Array;
  readonly sn: Float64Array;
  readonly lg = new Float64Array(2);
  constructor(d: number) {
    this.su = new Float64Array(d);
    this.sp = new Float64Array(d);
    this.sn = new Float64Array(d);
  }
}

/**
 * Feature-id dropout of one side (the user-id field, typically): with probability `p` per
 * positive pair, the features [from, to) of the user row are left out of that pair's triples —
 * both from s_u and from the update — so the remaining fields (attributes) must score the pair
 * alone, as they do for a cold user at serving time. p = 0 (or from = to) turns it off.
 */
export interface FmDropout {
  readonly from: number;
  readonly to: number;
  readonly p: number;
}

export const NO_DROPOUT: FmDropout = { from: 0, to: 0, p: 0 };

/**
 * s = Σ x_i v_i over row r into s, skipping feature ids in [lo, hi); returns W + V_tt (item
 * side) — the first-order + inner term.
 */
function sideSum(t: FmSideTables, d: number, r: number, s: Float64Array, lo = 0, hi = 0): number {
  const { V, w, offsets, indices, values } = t;
  let lin = 0;
  let sq = 0;
  for (let j = 0; j < d; j++) s[j] = 0;
  for (let e = offsets[r]; e < offsets[r + 1]; e++) {
    if (indices[e] >= lo && indices[e] < hi) continue;
    const x = values[e];
    const o = indices[e] * d;
    lin += x * w[indices[e]];
    for (let j = 0; j < d; j++) {
      const xv = x * V[o + j];
      s[j] += xv;
      sq += xv * xv;
    }
  }
  let ss = 0;
  for (let j = 0; j < d; j++) ss += s[j] * s[j];
  return lin + 0.5 * (ss - sq);
}

/** Applies the item-side step for one item row with gradient factor g and its sum s. */
function itemStep(
  t: FmSideTables,
  d: number,
  r: number,
  g: number,
  s: Float64Array,
  su: Float64Array,
  lr: number,
  l2: number,
): void {
  const { V, w, offsets, indices, values } = t;
  for (let e = offsets[r]; e < offsets[r + 1]; e++) {
    const x = values[e];
    const f = indices[e];
    const o = f * d;
    w[f] -= lr * (g * x + l2 * w[f]);
    for (let j = 0; j < d; j++) {
      const v = V[o + j];
      V[o + j] = v - lr * (g * x * (s[j] - x * v + su[j]) + l2 * v);
    }
  }
}

/**
 * Runs pairs [from, to) of (q, t) with `negPerRow` negatives each from `alias`, user features
 * dropped per pair by `drop`. With `logQ` (log Q(t) of the sampler, per item) the loss sees
 * x − (log Q(t⁺) − log Q(t⁻)) (sampling-bias correction; the gradient is unchanged). Returns Σ ℓ.
 */
export function fmPairwiseSgdRange(
  user: FmSideTables,
  item: FmSideTables,
  d: number,
  lr: number,
  l2: number,
  negPerRow: number,
  alias: AliasTable,
  pw: PairwiseForm,
  q: Int32Array,
  t: Int32Array,
  from: number,
  to: number,
  rng: Rng,
  sc: FmScratch,
  drop: FmDropout = NO_DROPOUT,
  logQ: Float32Array | null = null,
): number {
  const { su, sp, sn, lg } = sc;
  const Vu = user.V;
  const uIdx = user.indices;
  const uVal = user.values;
  let total = 0;
  for (let e = from; e < to; e++) {
    const u = q[e];
    const p = t[e];
    const dropped = drop.p > 0 && rng.next() < drop.p;
    const lo = dropped ? drop.from : 0;
    const hi = dropped ? drop.to : 0;
    for (let k = 0; k < negPerRow; k++) {
      const n = alias.sample(rng);
      if (n === p) continue; // accidental hit: no ranking signal
      sideSum(user, d, u, su, lo, hi);
      const ap = sideSum(item, d, p, sp);
      const an = sideSum(item, d, n, sn);
      let x = logQ === null ? ap - an : ap - an - (logQ[p] - logQ[n]);
      for (let j = 0; j < d; j++) x += su[j] * (sp[j] - sn[j]);
      pw.lossAndGrad(x, lg);
      total += lg[0];
      const g = lg[1];
      // user rows: ∂x/∂v_i = x_i (s⁺ − s⁻)
      for (let c = user.offsets[u]; c < user.offsets[u + 1]; c++) {
        if (uIdx[c] >= lo && uIdx[c] < hi) continue;
        const xi = uVal[c];
        const o = uIdx[c] * d;
        for (let j = 0; j < d; j++) {
          const v = Vu[o + j];
          Vu[o + j] = v - lr * (g * xi * (sp[j] - sn[j]) + l2 * v);
        }
      }
      itemStep(item, d, p, g, sp, su, lr, l2);
      itemStep(item, d, n, -g, sn, su, lr, l2);
    }
  }
  return total;
}
