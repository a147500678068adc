import type { RowUpdater, SparseOptimizer } from "../../encoders/types.ts";
import { checkRate, state } from "./check.ts";

export interface AdamOptions {
  /** Default 1e-3. */
  readonly lr?: number;
  readonly l2?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

/**
 * Lazy Adam (TF `LazyAdam`): moments m, v of a row are updated only when the row is touched;
 * bias correction uses the global step t (batches so far):
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  w ← w − lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε).
 */
export function adam(o: AdamOptions = {}): SparseOptimizer {
  let lr = o.lr ?? 1e-3;
  const l2 = o.l2 ?? 0;
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  checkRate("adam", lr, l2);
  let t = 0;
  let b1t = 1;
  let b2t = 1;
  let alpha = lr;
  return {
    name: `adam(lr=${lr}, l2=${l2})`,
    sgd: null,
    scaleLearningRate(f: number) {
      lr *= f;
      alpha *= f;
    },
    nextStep() {
      t++;
      b1t *= b1;
      b2t *= b2;
      alpha = (lr * Math.sqrt(1 - b2t)) / (1 - b1t);
    },
    bind(table: Float32Array, rows: number, dim: number, shared: boolean): RowUpdater {
      const m = state(rows * dim, shared);
      const v = state(rows * dim, shared);
      return {
        update(row, g, gOff) {
          if (t === 0) throw new Error("optimizers.adam: nextStep() must run before the first update");
          const o = row * dim;
          for (let j = 0; j < dim; j++) {
            const gj = g[gOff + j] + l2 * table[o + j];
            const mj = b1 * m[o + j] + (1 - b1) * gj;
            const vj = b2 * v[o + j] + (1 - b2) * gj * gj;
            m[o + j] = mj;
            v[o + j] = vj;
            table[o + j] -= (alpha * mj) / (Math.sqrt(vj) + eps);
          }
        },
      };
    },
  };
}
