/** `encoders.*` factories (spec §5.2.3): ID tables and feature sums; towers and graph encoders come later. */
export { FeatureSum, type FeatureSumOptions, featureSum } from "./feature-sum.ts";
export { IdTable, type IdTableOptions, idTable } from "./id-table.ts";
export { allocF32, type InitOptions, initInto } from "./init.ts";
export { RowGrads } from "./row-grads.ts";
export type {
  Encoder,
  EncoderContext,
  GraphEncoder,
  RowUpdater,
  SparseOptimizer,
  TowerEncoder,
} from "./types.ts";
