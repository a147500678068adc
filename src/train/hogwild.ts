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
 *
 * Kernel. When the loss is BPR's (probed structurally, `isBprForm`), dim is a multiple of 4 and
 * the runtime has WASM SIMD, the workers run the WASM kernel (bpr-wasm.ts) over a mirror of U and V
 * in one shared WebAssembly.Memory (a WASM instance can only address its own memory, and the
 * encoders own U and V). The pool copies U and V into the mirror when it starts and copies the
 * mirror back into U and V after every epoch, so the encoders' tables hold each epoch's result as
 * with the JS kernel. Contract: while the pool lives it is the only writer of U and V (the trainer
 * and its onEpoch callbacks only read them between epochs; the best-epoch restore comes after
 * close). The copy back costs one memcpy of the tables per epoch (18 MB for Gowalla at dim 64:
 * 5–9 ms measured at load ~11); encoders that allocated their tables in the WASM memory would
 * save it. Otherwise the workers run `pairwiseSgdRange` (JS) directly on U and V. `kernel: "js"`
 * (or RECALLKIT_BPR_KERNEL=js in the environment) forces the JS kernel.
 */
import type { Loss, PairwiseForm } from "../losses/types.ts";
import { WorkerPool, workerUrl } from "../workers.ts";
import { type BprWasmLayout, bprTables, bprWasmSupported, createBprLayout, isBprForm } from "./bpr-wasm.ts";

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

/** What a worker receives: the init plus the WASM mirror (null: the JS kernel on U and V). */
export interface HogwildWorkerInit extends HogwildInit {
  readonly wasm: BprWasmLayout | null;
}

/** An epoch job plus the worker's slot in the WASM memory. */
export interface HogwildJob extends HogwildEpoch {
  readonly slot: number;
}

/** "wasm" (default where it applies, see above) or "js" (the reference kernel). */
export type HogwildKernel = "wasm" | "js";

/**
 * The kernel Hogwild workers run for a loss's pairwise form at `dim`: "wasm" when asked for (the
 * default unless RECALLKIT_BPR_KERNEL=js), the form is BPR's, dim is a multiple of 4 and the
 * runtime has WASM SIMD and shared memory; else "js". (The pool still falls back to "js" if the
 * shared memory cannot be allocated, e.g. tables beyond 4 GiB.)
 */
export function hogwildKernel(pw: PairwiseForm, dim: number, kernel?: HogwildKernel): HogwildKernel {
  const want = kernel ?? (process.env.RECALLKIT_BPR_KERNEL === "js" ? "js" : "wasm");
  return want === "wasm" && dim % 4 === 0 && isBprForm(pw) && bprWasmSupported() ? "wasm" : "js";
}

/** Persistent Hogwild workers for one fit. */
export class HogwildPool {
  private constructor(
    private readonly pool: WorkerPool<HogwildJob>,
    private readonly init: HogwildInit,
    private readonly mirror: { U: Float32Array; V: Float32Array } | null,
  ) {}

  /** The kernel the workers run. */
  get kernel(): HogwildKernel {
    return this.mirror === null ? "js" : "wasm";
  }

  get size(): number {
    return this.pool.size;
  }

  /** Starts `n` workers; `kernel` defaults to RECALLKIT_BPR_KERNEL, else "wasm" (see `hogwildKernel`). */
  static async start(n: number, init: HogwildInit, kernel?: HogwildKernel): Promise<HogwildPool> {
    let wasm: BprWasmLayout | null = null;
    if (kernel !== "js") {
      const mod = (await import(init.loss.url)) as Record<string, (o: unknown) => Loss>;
      const pw = mod[init.loss.factory](init.loss.options).pairwise;
      if (pw !== null && hogwildKernel(pw, init.dim, kernel) === "wasm")
        wasm = createBprLayout(init.U.length / init.dim, init.V.length / init.dim, init.dim, n);
    }
    const mirror = wasm === null ? null : bprTables(wasm);
    if (mirror !== null) {
      mirror.U.set(init.U);
      mirror.V.set(init.V);
    }
    const data: HogwildWorkerInit = { ...init, wasm };
    const pool = await WorkerPool.start<HogwildJob>(workerUrl("./hogwild.worker", import.meta.url), n, data);
    return new HogwildPool(pool, init, mirror);
  }

  /**
   * Posts job(i) to worker i (null: only await its next message) and resolves with each reply;
   * with the WASM kernel, the mirror is copied back into U and V once all have replied.
   */
  async all<T>(job: (i: number) => HogwildEpoch | null): Promise<T[]> {
    const m = this.mirror;
    const replies = await this.pool.all<T>((i) => {
      const j = job(i);
      return j === null ? null : { ...j, slot: i };
    });
    if (m !== null) {
      this.init.U.set(m.U);
      this.init.V.set(m.V);
    }
    return replies;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
