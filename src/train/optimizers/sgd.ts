import type { RowUpdater, SparseOptimizer } from "../../encoders/types.ts";
import { checkRate } from "./check.ts";

export interface SgdOptions {
  /** Learning rate. Default 0.05. */
  readonly lr?: number;
  /** L2 on touched rows: g += l2·w. Default 0. */
  readonly l2?: number;
}

/** Sparse SGD: w ← w − lr·(g + l2·w) on each touched row. */
export function sgd(o: SgdOptions = {}): SparseOptimizer {
  let lr = o.lr ?? 0.05;
  const l2 = o.l2 ?? 0;
  checkRate("sgd", lr, l2);
  return {
    name: `sgd(lr=${lr}, l2=${l2})`,
    get sgd() {
      return { lr, l2 };
    },
    scaleLearningRate(f: number) {
      lr *= f;
    },
    nextStep() {},
    bind(table: Float32Array, _rows: number, dim: number): RowUpdater {
      return {
        update(row, g, gOff) {
          const o = row * dim;
          for (let j = 0; j < dim; j++) table[o + j] -= lr * (g[gOff + j] + l2 * table[o + j]);
        },
      };
    },
  };
}
