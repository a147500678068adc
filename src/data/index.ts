/** The data layer's public API (DESIGN §3): readers, loaders, attributes, sessions, splits. */
export {
  AttributeBuilder,
  attributeField,
  attributeTable,
  attributeValues,
  type BetaPrior,
  fitBetaPrior,
  itemPopularity,
  itemStats,
  smoothedCtr,
} from "./attributes.ts";
export { type CsvDatasetOptions, loadCsvDataset, writeCsvDataset, writeSynthetic } from "./csv-dataset.ts";
export { type DigineticaOptions, loadDiginetica } from "./diginetica.ts";
export { IdMap } from "./id-map.ts";
export type {
  ColumnMapping,
  ColumnRef,
  IngestOptions,
  LoadedDataset,
  LoadReport,
  ReadReport,
  ReadResult,
} from "./ingest.ts";
export { type DatasetSummary, inspectDataset } from "./inspect.ts";
export {
  concatInteractions,
  filterRows,
  type InteractionColumns,
  InteractionsBuilder,
  interactions,
  orderByUserTime,
  selectRows,
} from "./interactions.ts";
export { loadLightGcn } from "./lightgcn.ts";
export { itemUserCsr, type MatrixOptions, userItemCsr } from "./matrix.ts";
export { loadMovieLens, type MovieLensOptions, type MovieLensVariant } from "./movielens.ts";
export { readParquetInteractions } from "./parquet.ts";
export { type InputFormat, type ReadOptions, readDelimited, readInteractions, readJsonl } from "./readers.ts";
export {
  type DatasetKind,
  KNOWN_DATASETS,
  parseSyntheticSpec,
  type ResolveOptions,
  resolveDataset,
  sniffDataset,
} from "./resolve.ts";
export { type SessionizeOptions, sessionCount, sessionize } from "./sessions.ts";
export {
  type LeaveLastOutOptions,
  type RandomSplitOptions,
  type Split,
  splitLeaveLastOut,
  splitRandom,
  withSplit,
} from "./split.ts";
export { type SyntheticOptions, synthesize } from "./synthetic.ts";
