/**
 * The one ANN contract (faiss's `Index`, usearch's `Index`): flat row-major batches, batch-first
 * `TopK` results, an index spec string that prints back unchanged, artifacts on disk.
 *
 * Scores are "higher is better" for every metric, so all indexes and the evaluation share one
 * top-K order (score desc, ties toward the earlier-added item):
 *   ip      q·x
 *   cosine  q·x / (‖q‖‖x‖)         (items are normalised once when added; queries per search)
 *   l2      −‖q − x‖²               (negated squared distance)
 */
import type { TopK } from "../math/topk.ts";

export type Metric = "ip" | "cosine" | "l2";

/** Items to leave out of one query's results: a list of item ids, or a predicate (true = drop). */
export type Exclude = ArrayLike<number> | ((id: number) => boolean);

/**
 * Per-query exclusions for a batch, CSR-shaped (a `Csr` fits): query i drops
 * `indices[offsets[r] .. offsets[r+1])` with r = `rows[i]` (default r = i). With queries that
 * are user vectors this is the user→seen-items matrix, and `rows` the users' indices.
 */
export interface ExcludeRows {
  readonly offsets: ArrayLike<number>;
  readonly indices: ArrayLike<number>;
  readonly rows?: ArrayLike<number>;
}

/** A batch's exclusions: one list for every query, a predicate `(id, query) ⇒ drop`, or rows. */
export type BatchExclude = ArrayLike<number> | ((id: number, query: number) => boolean) | ExcludeRows;

export interface SearchOptions {
  /** Ids never returned (seen items, a business rule). */
  readonly exclude?: Exclude;
  /** HNSW search breadth for this call (default: the spec's `ef`); ignored by exact indexes. */
  readonly ef?: number;
}

export interface BatchSearchOptions {
  readonly exclude?: BatchExclude;
  readonly ef?: number;
}

export interface AnnIndex {
  /** Spec this index was created from, canonical form: `"Flat"`, `"HNSW32,efC=200,ef=64"`. */
  readonly spec: string;
  readonly dim: number;
  readonly metric: Metric;
  /** Items stored. */
  readonly size: number;
  /**
   * Adds `vectors.length / dim` row-major vectors. `ids` (≥ 0, unique across the index) default
   * to `size, size+1, …`. The vectors are copied.
   */
  add(vectors: Float32Array, ids?: Int32Array): void;
  /** Top-k for one query (a batch of one; allocates the result). */
  search(query: Float32Array, k: number, opts?: SearchOptions): TopK;
  /** Top-k for `n` row-major queries (allocates the result). */
  searchBatch(queries: Float32Array, n: number, k: number, opts?: BatchSearchOptions): TopK;
  /** Same, written into a caller-supplied `TopK` with `out.n ≥ n` and `out.k === k`. */
  searchBatchInto(queries: Float32Array, n: number, k: number, out: TopK, opts?: BatchSearchOptions): void;
  /** Writes the index as an artifact directory (atomically: temp directory, then rename). */
  save(dir: string): Promise<void>;
}
