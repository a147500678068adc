/**
 * recallkit's public API. Re-exports only: what is listed here (and in package.json#exports) is
 * the contract; test/exports.test.ts keeps a snapshot of it.
 */
export * from "./data/index.ts";
export { GraphTrCore, type GraphTrOptions, GraphTrSide, graphTr } from "./encoders/graphtr.ts";
export * as encoders from "./encoders/index.ts";
export { LightGcnCore, type LightGcnOptions, LightGcnSide, lightGcn } from "./encoders/lightgcn.ts";
export {
  MultiBiSageCore,
  type MultiBiSageOptions,
  MultiBiSageSide,
  multiBiSage,
} from "./encoders/multibisage.ts";
export { graphSage, PinSageCore, type PinSageOptions, PinSageSide, pinSage } from "./encoders/pinsage.ts";
export {
  historyCsr,
  Tower,
  type TowerFeatures,
  type TowerHistoryOptions,
  type TowerOptions,
  tower,
} from "./encoders/tower.ts";
export { type ErrorCode, ErrorCodes, RecallkitError } from "./errors.ts";
export * from "./eval/index.ts";
export * from "./graph/index.ts";
export * from "./index/index.ts";
export { type LoadedArtifact, type Manifest, readArtifact, writeArtifact } from "./io/artifact.ts";
export { decodeNpy, encodeNpy } from "./io/npy.ts";
export * as losses from "./losses/index.ts";
export { transforms } from "./losses/index.ts";
export { AliasTable } from "./math/alias.ts";
export { axpy, dot, gemmNT, normalizeRows } from "./math/blas.ts";
export { buildCsr, type Csr, columnCounts, transposeCsr } from "./math/csr.ts";
export { type BlockOperator, type Eigenpairs, topEigenpairs } from "./math/eigen.ts";
export { Rng } from "./math/rng.ts";
export { TopK, TopKHeap } from "./math/topk.ts";
export { AirbnbEmbedding, type AirbnbOptions } from "./models/airbnb.ts";
export { AirbnbTypes, type AirbnbTypesOptions } from "./models/airbnb-types.ts";
export { Eges, type EgesOptions, egesRecipe } from "./models/eges.ts";
export { FmRecall, type FmRecallOptions } from "./models/fm.ts";
export {
  GraphTR,
  type GraphTrModelOptions,
  graphTrRecipe,
  MultiBiSage,
  type MultiBiSageModelOptions,
  multiBiSageRecipe,
} from "./models/hetero-gcn.ts";
export {
  EmbeddingModel,
  type EmbeddingModelOptions,
  MfBpr,
  type MfBprOptions,
  MfSoftmax,
  type MfSoftmaxOptions,
  mfBprRecipe,
  mfSoftmaxRecipe,
} from "./models/index.ts";
export { Item2Vec, type Item2VecOptions, item2vecRecipe } from "./models/item2vec.ts";
export { LightGcn, type LightGcnModelOptions, lightGcnRecipe } from "./models/lightgcn.ts";
export {
  GraphSage,
  graphSageRecipe,
  PinSage,
  type PinSageModelOptions,
  pinSageRecipe,
} from "./models/pinsage.ts";
export {
  nextItemPairs,
  TwoTower,
  type TwoTowerOptions,
  type TwoTowerScenario,
  twoTowerRecipe,
} from "./models/two-tower.ts";
export * as negatives from "./negatives/index.ts";
export * as positives from "./positives/index.ts";
export { ALS, type AlsOptions } from "./recall/als.ts";
export { GraphFilter, type GraphFilterOptions } from "./recall/graph-filter.ts";
export { InvertedIndex, type InvertedIndexOptions } from "./recall/inverted-index.ts";
export { ItemCF, type ItemCFOptions, itemCFPresets } from "./recall/item-cf.ts";
export {
  type ChannelList,
  type MergedItem,
  type MergeOptions,
  type MergeStrategy,
  mergeChannels,
  mergeTopK,
  type Provenance,
} from "./recall/merge.ts";
export { Popular, type PopularOptions } from "./recall/popular.ts";
export {
  PopularityPrior,
  type PriorSelection,
  popularityBias,
  type RemoteSelection,
  selectPopularityPrior,
  withItemBias,
} from "./recall/popularity-prior.ts";
export { UserCF, type UserCFOptions } from "./recall/user-cf.ts";
export type { Embeddings, Recommender, RecommendOptions } from "./recommender.ts";
export {
  createModel,
  loadModel,
  type ModelEntry,
  type ModelSpec,
  modelEntry,
  modelNames,
  registerModel,
  selectPopularityPriorInWorker,
} from "./registry.ts";
export * from "./serve/index.ts";
export { type GcnLossOptions, gcnRecipe } from "./train/gcn-recipe.ts";
export { type VisitRankBandOptions, visitRankBand } from "./train/graph-negatives.ts";
export type { EpochInfo, ProgressInfo, Recipe, TrainOptions, TrainReport } from "./train/index.ts";
export { exportVectors, optimizers, train } from "./train/index.ts";
export { type TwoTowerTrainOptions, trainTwoTower } from "./train/two-tower.ts";
export type { AttributeField, AttributeTable, Dataset, Interactions, ItemStats } from "./types.ts";
