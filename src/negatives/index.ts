/**
 * `negatives.*` factories (spec §5.2.2, §5.5.2). Every sampler reports Q(t) through `logQInto`
 * so `transforms.logQ()` works with any of them.
 */
export type { CatalogueOptions } from "./catalogue.ts";
export { type HardNegativeSource, type HardOptions, hard } from "./hard.ts";
export { type InBatchOptions, InBatchSampler, inBatch } from "./in-batch.ts";
export { logUniform } from "./log-uniform.ts";
export { type MixedOptions, mixed } from "./mixed.ts";
export { type PopularityOptions, popularity } from "./popularity.ts";
export type { CatalogueSampler, NegativeSampler, SampleRequest, SamplerStats } from "./types.ts";
export { LOG_Q_FLOOR } from "./types.ts";
export { uniform } from "./uniform.ts";
