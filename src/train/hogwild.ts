/**
 * Hogwild! (Recht et al. 2011) for the fused sparse kernels: W worker threads run the same kernel
 * as `workers: 0` on disjoint slices of one epoch's pairs, reading and writing the SAME
 * SharedArrayBuffer tables without locks.
 *
 * Races, deliberately accepted:
 * - Two workers may update the same row at once (a popular item is t⁺ or t⁻ in both slices).
 *   Each coordinate write is a plain f32 store: a write can be lost (read-modify-write
 *   interleaving) or a dot product can mix old and new coordinates. With sparse updates each
 *   lost/mixed step is one SGD step of size lr·‖g‖; Hogwild's analysis shows convergence is kept
 *   when conflicts are rare, which holds here (a batch touches ~3 rows of ~70k).
 * - No Atomics on table data: Atomics would serialise the hot loop and only exist for integer
 *   arrays anyway.
 * - Results are not bit-reproducible with workers ≥ 2 (thread timing decides the interleaving);
 *   `workers: 0` runs the same kernel in-process and is exact.
 * Shared inputs are read-only (pairs, sampling table); each worker owns its RNG (seed + worker
 * index + epoch) and its scratch; the main thread waits for every worker before the epoch ends,
 * so epochs never overlap and the next epoch's pairs can be refilled safely.
 */
import { WorkerPool, workerUrl } from "../workers.ts";

export interface HogwildInit {
  readonly U: Float32Array;
  readonly V: Float32Array;
  readonly dim: number;
  readonly lr: number;
  readonly l2: number;
  readonly negPerRow: number;
  readonly prob: Float64Array;
  /** Module URL + factory name + options that recreate the loss (functions cannot cross threads). */
  readonly loss: { readonly url: string; readonly factory: string; readonly options: unknown };
}

export interface HogwildEpoch {
  readonly q: Int32Array;
  readonly t: Int32Array;
  readonly from: number;
  readonly to: number;
  readonly seed: number;
  /** This epoch's learning rate (follows the trainer's lrDecay). */
  readonly lr: number;
}

/** Persistent Hogwild workers for one fit. */
export type HogwildPool = WorkerPool<HogwildEpoch>;
export const HogwildPool = {
  start: (n: number, init: HogwildInit): Promise<HogwildPool> =>
    WorkerPool.start<HogwildEpoch>(workerUrl("./hogwild.worker", import.meta.url), n, init),
};
