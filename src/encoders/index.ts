/** `encoders.*` factories (spec §5.2.3): ID tables, feature sums, DNN towers and graph encoders. */
export { FeatureSum, type FeatureSumOptions, featureSum } from "./feature-sum.ts";
export { graphTr } from "./graphtr.ts";
export { IdTable, type IdTableOptions, idTable } from "./id-table.ts";
export { allocF32, type InitOptions, initInto } from "./init.ts";
export { lightGcn } from "./lightgcn.ts";
export { multiBiSage } from "./multibisage.ts";
export { graphSage, pinSage } from "./pinsage.ts";
export { RowGrads } from "./row-grads.ts";
export {
  type SpectralSide,
  type SpectralStartOptions,
  spectralStart,
  type TableStart,
} from "./spectral-init.ts";
export { type TowerHistoryOptions, type TowerOptions, type TowerStart, tower } from "./tower.ts";
export type {
  Encoder,
  EncoderContext,
  GraphEncoder,
  RowUpdater,
  SparseOptimizer,
  TowerEncoder,
} from "./types.ts";
