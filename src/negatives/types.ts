/**
 * The negatives dimension (spec §5.2.2, §5.5.2): which items play t⁻ for a query, and with what
 * probability Q(t) — the Q of the −log Q correction (5-3, 5-11, 5-30, 5-32).
 */
import type { Rng } from "../math/rng.ts";

/** What a sampler learns from the training positives at prepare time. */
export interface SamplerStats {
  readonly nItems: number;
  /** How often each item is a positive target in one epoch (its popularity). */
  readonly counts: Float64Array;
  /** Batches per epoch (lets streaming estimators start from a sensible gap). */
  readonly batchesPerEpoch: number;
}

/** The batch a sampler draws for. */
export interface SampleRequest {
  /** Rows in this batch (≤ the arrays' length). */
  readonly rows: number;
  /** Query id per row. */
  readonly queryIds: Int32Array;
  /** Positive item id per row. */
  readonly posIds: Int32Array;
  /** Global batch counter, 0-based (streaming frequency estimation). */
  readonly step: number;
}

export interface NegativeSampler {
  readonly name: string;
  /** One negative set per batch, scored by every row (true), or one set per row (false). */
  readonly shared: boolean;
  /** The batch's positives are also candidates for every row (in-batch negatives). */
  readonly inBatch: boolean;
  /** Negatives drawn per batch (shared) or per row (not shared). */
  readonly count: number;
  /** Static Q over the catalogue once prepared; null when Q depends on the batch stream. */
  readonly prob: Float64Array | null;
  prepare(stats: SamplerStats): void;
  /** Writes `count` ids (shared) or `rows·count` ids, row-major (not shared) into out. */
  sampleInto(rng: Rng, req: SampleRequest, out: Int32Array): void;
  /** Sees each batch's positives after sampling (streaming Q estimators); may do nothing. */
  observe(req: SampleRequest): void;
  /** out[outOff + e] = log Q(items[e]) for e < n: the log-probability that one draw is that item. */
  logQInto(items: Int32Array, n: number, out: Float32Array, outOff: number): void;
}

/** A sampler over the whole catalogue with a fixed distribution: composable into `mixed`/`hard`. */
export interface CatalogueSampler extends NegativeSampler {
  readonly prob: Float64Array;
  /** Writes n independent draws from `prob` into out[from .. from+n). */
  drawInto(rng: Rng, out: Int32Array, from: number, n: number): void;
}

/** Floor for log Q so an item of probability 0 gives a large finite correction, never −∞. */
export const LOG_Q_FLOOR = Math.log(1e-30);
