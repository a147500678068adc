/** Training: the generic loop, the fused kernels it may dispatch to, and the sparse optimizers. */
export { type FusedPairwisePlan, fusedPairwisePlan, pairwiseSgdRange } from "./fused-pairwise.ts";
export * as optimizers from "./optimizers/index.ts";
export type { EpochInfo, EpochRecord, ProgressInfo, Recipe, TrainOptions, TrainReport } from "./recipe.ts";
export { exportVectors, type Trained, train } from "./trainer.ts";
