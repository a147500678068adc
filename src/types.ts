/**
 * The data model shared by every module (DESIGN §3): dense integer ids, columnar interactions,
 * CSR attribute tables. Never one JS object per interaction in hot paths.
 */
import type { IdMap } from "./data/id-map.ts";
import type { LoadReport } from "./data/ingest.ts";
import type { Csr } from "./math/csr.ts";

export type { Csr } from "./math/csr.ts";

/** Columnar interaction log; row e is (users[e], items[e], weights?[e], ts?[e], events?[e], sessions?[e]). */
export interface Interactions {
  readonly length: number;
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** Rating, count or weight; null means 1 for every row. */
  readonly weights: Float32Array | null;
  /** Unix time in seconds; null when the source has no time. */
  readonly ts: Float64Array | null;
  /** Index into `eventNames`; null when the source has one kind of event. */
  readonly events: Int32Array | null;
  readonly eventNames: readonly string[];
  /** Dense session index; null until given by the source or cut by `sessionize`. */
  readonly sessions: Int32Array | null;
}

/** One attribute of users or items, single- or multi-valued: entity index → value indices. */
export interface AttributeField {
  readonly name: string;
  readonly multi: boolean;
  /** The attribute's values (e.g. genre names) as a dense id map. */
  readonly vocab: IdMap;
  /** nRows = number of entities, nCols = vocab.size. */
  readonly csr: Csr;
}

export type AttributeTable = ReadonlyMap<string, AttributeField>;

/** Per-item posterior statistics (spec §5.1.1): exposures, clicks and any other stat column. */
export interface ItemStats {
  readonly exposures: Float64Array | null;
  readonly clicks: Float64Array | null;
  /** Extra named stat columns (shares, purchases, ...), one value per item. */
  readonly columns: ReadonlyMap<string, Float64Array>;
}

/** A loaded dataset: id maps, a train log, an optional test log and side information. */
export interface Dataset {
  readonly name: string;
  readonly users: IdMap;
  readonly items: IdMap;
  readonly train: Interactions;
  readonly test: Interactions | null;
  readonly itemAttributes: AttributeTable;
  readonly userAttributes: AttributeTable;
  readonly itemStats: ItemStats | null;
  /** What the loader skipped (`skipBadRows`) or filtered in each file, when loaded from files. */
  readonly report?: LoadReport;
}
