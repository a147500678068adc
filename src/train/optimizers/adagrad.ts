import type { RowUpdater, SparseOptimizer } from "../../encoders/types.ts";
import { checkRate, state } from "./check.ts";

export interface AdagradOptions {
  /** Default 0.05. */
  readonly lr?: number;
  readonly l2?: number;
  /** Initial accumulator value (TF: 0.1). Default 0.1. */
  readonly initialAccumulator?: number;
}

/** Sparse Adagrad: h ← h + g², w ← w − lr·g/√h, per coordinate, touched rows only (g includes l2·w). */
export function adagrad(o: AdagradOptions = {}): SparseOptimizer {
  let lr = o.lr ?? 0.05;
  const l2 = o.l2 ?? 0;
  const h0 = o.initialAccumulator ?? 0.1;
  checkRate("adagrad", lr, l2);
  return {
    name: `adagrad(lr=${lr}, l2=${l2})`,
    sgd: null,
    scaleLearningRate(f: number) {
      lr *= f;
    },
    nextStep() {},
    bind(table: Float32Array, rows: number, dim: number, shared: boolean): RowUpdater {
      const h = state(rows * dim, shared).fill(h0);
      return {
        update(row, g, gOff) {
          const o = row * dim;
          for (let j = 0; j < dim; j++) {
            const gj = g[gOff + j] + l2 * table[o + j];
            const hj = h[o + j] + gj * gj;
            h[o + j] = hj;
            table[o + j] -= (lr * gj) / Math.sqrt(hj);
          }
        },
      };
    },
  };
}
