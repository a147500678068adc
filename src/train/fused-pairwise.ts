/**
 * Fused per-triple kernel for pairwise losses with SGD on two id tables (MF-BPR, hinge MF):
 * one pass per (q, t⁺, t⁻) reads three rows, computes x = u·(v⁺ − v⁻) and ℓ'(x), and updates the
 * three rows in place — no score matrix, no gradient buffers. It is exactly the generic loop with
 * batchSize 1 and reduction "sum" (which is why fusing requires reduction "sum").
 *
 *   g = ℓ'(x)                       (BPR: −σ(−x), spec 5-14; hinge: −[m − x > 0], 5-13)
 *   u   ← u   − lr·(g·(v⁺ − v⁻) + l2·u)
 *   v⁺  ← v⁺  − lr·(g·u + l2·v⁺)
 *   v⁻  ← v⁻  − lr·(−g·u + l2·v⁻)          (u is the value before this step)
 *
 * The trainer picks it structurally (`fusedPairwisePlan`): a pairwise loss without transforms,
 * a per-row catalogue sampler (static `prob`), plain id tables on both sides, plain SGD and dot
 * scores. It never looks at a part's name.
 *
 * Two drivers: `pairwiseSgdRange` runs the whole loop in JS (the in-process path and the
 * reference); `pairwiseSgdBlocks` draws the triples in JS, in the same order, and hands them in
 * blocks to a `TripleKernel` (the WASM SIMD BPR kernel of bpr-wasm.ts in the Hogwild workers).
 */
import type { Encoder, SparseOptimizer } from "../encoders/types.ts";
import type { Loss, PairwiseForm } from "../losses/types.ts";
import type { AliasTable } from "../math/alias.ts";
import type { Rng } from "../math/rng.ts";
import type { NegativeSampler } from "../negatives/types.ts";

export interface FusedPairwisePlan {
  readonly U: Float32Array;
  readonly V: Float32Array;
  readonly dim: number;
  readonly lr: number;
  readonly l2: number;
  readonly negPerRow: number;
  readonly prob: Float64Array;
  readonly pairwise: PairwiseForm;
}

/** The plan when the parts qualify for the fused kernel, else null. */
export function fusedPairwisePlan(
  parts: { negatives: NegativeSampler; query: Encoder; item: Encoder; loss: Loss; score: "dot" | "cosine" },
  optimizer: SparseOptimizer,
): FusedPairwisePlan | null {
  const { negatives: neg, query, item, loss } = parts;
  if (loss.pairwise === null || loss.reduction !== "sum" || parts.score !== "dot") return null;
  if (neg.prob === null || neg.shared || neg.inBatch || neg.count < 1) return null;
  if (query.table === null || item.table === null || optimizer.sgd === null || query.dim !== item.dim)
    return null;
  return {
    U: query.table,
    V: item.table,
    dim: query.dim,
    lr: optimizer.sgd.lr,
    l2: optimizer.sgd.l2,
    negPerRow: neg.count,
    prob: neg.prob,
    pairwise: loss.pairwise,
  };
}

/**
 * Runs pairs [from, to) of (q, t) through the kernel. Returns Σ ℓ. `lg` is a 2-slot scratch.
 * Hot loop: primitives and flat arrays only, the RNG threaded through.
 */
export function pairwiseSgdRange(
  U: Float32Array,
  V: Float32Array,
  dim: number,
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
  lg: Float64Array,
): number {
  let total = 0;
  const decay = 1 - lr * l2;
  let touch = 0;
  let nextNeg = alias.sample(rng);
  for (let e = from; e < to; e++) {
    const uo = q[e] * dim;
    const po = t[e] * dim;
    for (let k = 0; k < negPerRow; k++) {
      const no = nextNeg * dim;
      nextNeg = alias.sample(rng);
      // Touch the rows of the next triple so their cache misses overlap this one's arithmetic
      // (the tables are larger than the caches; rows are visited in random order).
      touch += V[nextNeg * dim];
      if (k === negPerRow - 1 && e + 1 < to) touch += U[q[e + 1] * dim] + V[t[e + 1] * dim];
      if (no === po) continue; // accidental hit: t⁻ = t⁺ carries no ranking signal
      let x = 0;
      for (let j = 0; j < dim; j++) x += U[uo + j] * (V[po + j] - V[no + j]);
      pw.lossAndGrad(x, lg);
      total += lg[0];
      const g = lg[1];
      if (g === 0 && l2 === 0) continue;
      const s = lr * g;
      for (let j = 0; j < dim; j++) {
        const u = U[uo + j];
        const vp = V[po + j];
        const vn = V[no + j];
        U[uo + j] = decay * u - s * (vp - vn);
        V[po + j] = decay * vp - s * u;
        V[no + j] = decay * vn + s * u;
      }
    }
  }
  // touch·0 keeps the touches observable so the JIT cannot drop them (it is 0 unless a row holds ±∞/NaN)
  return total + touch * 0;
}

/**
 * A kernel over a block of triples: `buf` holds [q, t⁺, t⁻] row indices, 3 ints per triple; `run`
 * applies the update rule above to the first n triples in order and returns Σ ℓ.
 */
export interface TripleKernel {
  readonly buf: Int32Array;
  run(n: number, lr: number, l2: number): number;
}

/**
 * `pairwiseSgdRange` with the arithmetic in `kernel`: the same pairs and the same negative draws in
 * the same order (so the same triples), written into the kernel's buffer and run a block at a time.
 * Returns Σ ℓ.
 */
export function pairwiseSgdBlocks(
  kernel: TripleKernel,
  lr: number,
  l2: number,
  negPerRow: number,
  alias: AliasTable,
  q: Int32Array,
  t: Int32Array,
  from: number,
  to: number,
  rng: Rng,
): number {
  const buf = kernel.buf;
  const full = buf.length - (buf.length % 3);
  if (full === 0) throw new RangeError("pairwiseSgdBlocks: the kernel's buffer holds no triple");
  let total = 0;
  let w = 0;
  for (let e = from; e < to; e++) {
    const u = q[e];
    const p = t[e];
    for (let k = 0; k < negPerRow; k++) {
      buf[w] = u;
      buf[w + 1] = p;
      buf[w + 2] = alias.sample(rng);
      w += 3;
      if (w === full) {
        total += kernel.run(w / 3, lr, l2);
        w = 0;
      }
    }
  }
  if (w > 0) total += kernel.run(w / 3, lr, l2);
  return total;
}
