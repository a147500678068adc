/** Sparse optimizers: state per row, only the rows a batch touched are updated. */
export type { RowUpdater, SparseOptimizer } from "../../encoders/types.ts";
export { type AdagradOptions, adagrad } from "./adagrad.ts";
export { type AdamOptions, adam } from "./adam.ts";
export { type SgdOptions, sgd } from "./sgd.ts";
