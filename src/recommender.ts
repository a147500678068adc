/**
 * The estimator contract every model shares (implicit's fit/recommend/similar_items/save).
 * Users and items are dense indices; results are batch-first `TopK`.
 */
import type { Metric } from "./index/ann-index.ts";
import type { Csr } from "./math/csr.ts";
import type { TopK } from "./math/topk.ts";
import type { Dataset } from "./types.ts";

export interface RecommendOptions {
  /** user → items to leave out (e.g. the training matrix); row u masks user u. */
  readonly exclude?: Csr | null;
}

/** Dot-product factors that evaluation and ANN can score directly (query·item, no −log Q). */
export interface Embeddings {
  readonly dim: number;
  /** nUsers × dim, row-major. */
  readonly users: Float32Array;
  /** nItems × dim, row-major. */
  readonly items: Float32Array;
}

export interface Recommender {
  /** Registry name, e.g. "popular", "itemcf". */
  readonly kind: string;
  fit(data: Dataset): Promise<this>;
  /** Top-k items for each user index in `users`. */
  recommend(users: Int32Array, k: number, opts?: RecommendOptions): TopK | Promise<TopK>;
  /** Items most similar to each item in `items` (the item itself excluded). */
  similarItems?(items: Int32Array, k: number): TopK;
  /** Top-k for a user known only by a short recent history (items, most recent last). */
  recommendFromItems?(recent: Int32Array, k: number, exclude?: Int32Array): TopK;
  /** Present on factor models: lets eval use the blocked-matmul path. */
  embeddings?(): Embeddings;
  /**
   * Feature models (FM, two-tower): the query vector, comparable with `embeddings().items`, of a
   * user unseen in training from her attributes and recent items (most recent last); null when
   * the inputs hold nothing the model's user side reads. The service's cold-start path.
   */
  userVectorFromFeatures?(
    attributes: Readonly<Record<string, readonly string[]>>,
    recent: Int32Array,
  ): Float32Array | null;
  /**
   * Set by models whose scores are right under one ANN metric only (a popularity prior's
   * augmented inner product): that metric and the reason, for the service's config check.
   */
  readonly annMetric?: { readonly metric: Metric; readonly why: string };
  /**
   * I2I query vectors of `items` (row-major, `embeddings().dim` wide), when an item's query is not
   * its own item row (a popularity prior: the bias coordinate is 1 in a query).
   */
  i2iQueries?(items: Int32Array): Float32Array;
  /** Hyper-parameters as given, for manifests and bench output. */
  params(): Record<string, unknown>;
  save(dir: string): Promise<void>;
}
