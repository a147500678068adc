export type {
  AnnIndex,
  BatchExclude,
  BatchSearchOptions,
  Exclude,
  ExcludeRows,
  Metric,
  SearchOptions,
} from "./ann-index.ts";
export { BruteForceIndex } from "./brute-force.ts";
export { createIndex, type IndexOptions, loadIndex } from "./factory.ts";
export { HnswIndex, type HnswOptions } from "./hnsw.ts";
export { formatSpec, type IndexSpec, parseSpec } from "./spec.ts";
