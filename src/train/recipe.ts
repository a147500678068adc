/**
 * A recipe is the four choices of spec §5.2 plus the score: every embedding-retrieval model in
 * this package is one (Hono-style preset: a default parts list in which any part can be swapped).
 */
import type { Encoder, SparseOptimizer } from "../encoders/types.ts";
import type { Loss } from "../losses/types.ts";
import type { NegativeSampler } from "../negatives/types.ts";
import type { PositiveSource } from "../positives/types.ts";

export interface Recipe {
  readonly positives: PositiveSource;
  readonly negatives: NegativeSampler;
  /** Query tower (user, item or user-half). May be the same object as `item` (tied tables). */
  readonly query: Encoder;
  readonly item: Encoder;
  readonly loss: Loss;
  /** "dot" (default) or "cosine": vectors L2-normalised before the dot, in training and serving. */
  readonly score: "dot" | "cosine";
}

export interface ProgressInfo {
  readonly epoch: number;
  readonly epochs: number;
  /** Positives processed in this epoch so far, and the epoch's expected size. */
  readonly done: number;
  readonly total: number;
  /** Positive pairs per second over this epoch so far. */
  readonly samplesPerSec: number;
  /** Mean loss per positive over this epoch so far. */
  readonly loss: number;
}

export interface EpochInfo {
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly seconds: number;
  readonly samplesPerSec: number;
  /** Current vectors as they would be served (normalised under cosine). Allocates. */
  vectors(): { readonly dim: number; readonly queries: Float32Array; readonly items: Float32Array };
}

export interface TrainOptions {
  /** Default 10. */
  readonly epochs?: number;
  /** Positives per batch. Default 1024. */
  readonly batchSize?: number;
  /** Seeds initialisation, shuffling and sampling. Default 42. */
  readonly seed?: number;
  /** Default `optimizers.adam({ lr: 1e-3 })`. */
  readonly optimizer?: SparseOptimizer;
  /**
   * Hogwild worker threads for fused sparse kernels; 0 runs in-process (exact, deterministic).
   * Recipes without a fused kernel always run in-process. Default 0.
   */
  readonly workers?: number;
  /** Allow a fused kernel when the parts qualify (default true); false forces the generic loop. */
  readonly fused?: boolean;
  /** Called about every `progressEverySec` seconds (default 2) and at each epoch end. */
  readonly onProgress?: (p: ProgressInfo) => void;
  readonly progressEverySec?: number;
  /**
   * Called after every epoch; may return a validation metric (higher is better). With a metric,
   * training stops after `patience` validated epochs without improvement and the parameters of
   * the best validated epoch are restored (epochs after it, validated or not, are discarded).
   */
  readonly onEpoch?: (info: EpochInfo) => number | undefined | Promise<number | undefined>;
  /** Learning-rate factor applied after every epoch (0.8: lr·0.8ᵉ). Default 1. */
  readonly lrDecay?: number;
  /**
   * Step schedule: after each epoch listed here the learning rate is multiplied by `lrGamma`
   * (on top of `lrDecay`). A late ×0.1 drop after a constant-rate phase is what lifts
   * cosine-softmax MF on Gowalla most (BENCHMARKS.md). Default none.
   */
  readonly lrMilestones?: readonly number[];
  /** Factor of each milestone. Default 0.1. */
  readonly lrGamma?: number;
  /** Epochs without improvement before stopping. Default Infinity (never stop early). */
  readonly patience?: number;
  /**
   * Generic path: leave item rows whose batch gradient is exactly zero (negatives below a margin
   * loss's margin) untouched by the optimizer — no lazy-Adam momentum step, no L2 — as if they
   * had not been sampled. Faster with margin losses; default false (every sampled row is
   * stepped, as TF's LazyAdam does; on Gowalla with CCL that converged faster per epoch).
   */
  readonly skipZeroGradientRows?: boolean;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly loss: number;
  readonly seconds: number;
  readonly samplesPerSec: number;
  readonly metric?: number;
}

export interface TrainReport {
  /** "generic" (batched scores + loss + sparse optimizer) or the fused kernel's name. */
  readonly path: string;
  readonly workers: number;
  readonly history: readonly EpochRecord[];
  /** 1-based epoch whose parameters were kept (the last one without a metric). */
  readonly bestEpoch: number;
  readonly seconds: number;
}
