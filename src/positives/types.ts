/**
 * The positives dimension (spec §5.2.1): which (q, t) pairs should be close. A source streams
 * pairs of dense ids — query q in its own id space, target t in the item space of the negatives —
 * batch by batch, reshuffled each epoch from the trainer's seeded Rng.
 */
import type { Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";

/** What the rest of a recipe learns from the source at prepare time. */
export interface PositiveInfo {
  /** Size of the query id space (users for U2I, items for I2I, user halves for U2U). */
  readonly nQueries: number;
  /** Size of the target id space. */
  readonly nTargets: number;
  /** Expected count of each target among one epoch's positives (the popularity negatives use). */
  readonly targetCounts: Float64Array;
  /** "users" when query q is user q of the dataset (U2I), "items" for I2I, "custom" otherwise. */
  readonly querySpace: "users" | "items" | "custom";
  /** Optional entity → item bags the source defines (U2U halves): feature encoders read them. */
  readonly queryBags: Csr | null;
  readonly targetBags: Csr | null;
}

/** A batch of pairs: (q[i], t[i]) for i below the count returned by `nextInto`. */
export interface PairBatch {
  readonly q: Int32Array;
  readonly t: Int32Array;
}

export interface PositiveSource {
  readonly name: string;
  /** Builds the source's index over the data; call once before the first epoch. */
  prepare(data: Dataset): PositiveInfo;
  /** Expected pairs per epoch, after subsampling (known after prepare). */
  readonly epochSize: number;
  /** Starts an epoch (reshuffles). */
  startEpoch(rng: Rng): void;
  /** Writes up to `max` pairs into out, returns how many; 0 means the epoch is over. */
  nextInto(rng: Rng, out: PairBatch, max: number): number;
}
