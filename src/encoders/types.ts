/**
 * The encoders dimension (spec §5.2.3): maps query or item ids to vectors, each side on its own
 * ("召回要求解耦": the only user–item interaction is the final dot/cosine), so item vectors can be
 * computed offline and indexed. Parameters are sparse tables updated only on the rows a batch
 * touched (DESIGN §6: embedding tables live outside any dense framework).
 */
import type { Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";

/** Applies one update to one row of a bound table (implementations: train/optimizers). */
export interface RowUpdater {
  /** row ← step(row, g) with g = grad[gOff .. gOff + dim), L2 included. */
  update(row: number, grad: Float32Array, gOff: number): void;
}

/** A sparse optimizer: per-row state, touched rows only (SGD, Adagrad, lazy Adam). */
export interface SparseOptimizer {
  readonly name: string;
  /** Binds state for one rows × dim table; `shared` allocates state in SharedArrayBuffers. */
  bind(table: Float32Array, rows: number, dim: number, shared: boolean): RowUpdater;
  /** Called once per batch, before the updates (Adam's bias-correction step). */
  nextStep(): void;
  /** Present when the update is plain SGD w ← w − lr·(g + l2·w): fused kernels may inline it. */
  readonly sgd: { readonly lr: number; readonly l2: number } | null;
  /** Multiplies the learning rate by f from now on (schedules: the trainer's `lrDecay`). */
  scaleLearningRate(f: number): void;
}

export interface EncoderContext {
  /** Number of entities (rows of the id space) this encoder maps. */
  readonly nRows: number;
  readonly rng: Rng;
  readonly data: Dataset;
  /** Entity → item bags offered by the positive source (U2U halves), if any. */
  readonly bags: Csr | null;
  readonly optimizer: SparseOptimizer;
  /** Allocate tables in SharedArrayBuffers (Hogwild workers). */
  readonly sharedMemory: boolean;
}

export interface Encoder {
  readonly name: string;
  readonly dim: number;
  /** Allocates and initialises parameters; binds the optimizer. */
  prepare(ctx: EncoderContext): void;
  /** out[i·dim ..] = vector of entity ids[i], i < n. */
  forwardInto(ids: Int32Array, n: number, out: Float32Array): void;
  /** Accumulates dL/d(out) for ids[0..n) and updates the touched parameters. */
  backward(ids: Int32Array, n: number, dOut: Float32Array): void;
  /** Vectors of all nRows entities, row-major (allocates). */
  exportAll(): Float32Array;
  /** The parameter arrays, for snapshots (early stopping) and determinism checks. */
  parameters(): Float32Array[];
  /** The rows × dim table when the encoder is a plain id lookup (vector = row), else null. */
  readonly table: Float32Array | null;
}

/**
 * A DNN tower over features and behaviour sequences (spec §5.5.3): an Encoder whose dense layers
 * it updates itself during `backward`. Filled in by the two-tower issue.
 */
export interface TowerEncoder extends Encoder {
  readonly layers: readonly number[];
}

/**
 * A graph-convolution encoder (GraphSAGE/PinSage, spec §5.6): an entity's vector aggregates its
 * sampled neighbourhood. Filled in by the GCN issue.
 */
export interface GraphEncoder extends Encoder {
  readonly hops: number;
}
