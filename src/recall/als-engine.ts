/**
 * ALS work units over shared memory: the glue between `als.ts` (which sequences half-steps) and
 * the kernels in `als-kernels.ts`. The same `AlsEngine.run` executes in-process (`workers: 0`) and
 * inside every `als.worker.ts`, so both paths compute every row with the same instructions.
 *
 * Scheduling. A task ("gram", "solve" or "loss" for one side) is cut into fixed chunks; each
 * participant claims the next chunk with `Atomics.add` on one shared counter until none is left
 * (dynamic load balancing, which matters on a machine shared with other jobs). Every chunk writes
 * only its own rows or its own partial slot, and the caller sums partials in chunk order, so the
 * result is bit-identical for any number of workers.
 */
import { createWasmGemm, type WasmGemm } from "../math/gemm-wasm.ts";
import {
  type AlsWasmKernel,
  createAlsWasmKernel,
  createSharedMemory,
  type WasmSharedMemory,
} from "./als-cg-wasm.ts";
import {
  cgSolveRows,
  choleskySolveRows,
  GRAM_CHUNK,
  gramAddInto,
  lossRows,
  ROW_CHUNK,
} from "./als-kernels.ts";

/** Byte offsets of every array inside the one shared buffer (all 16-byte aligned). */
export interface AlsLayout {
  /** Float32 nUsers×f and nItems×f factor tables. */
  readonly X: number;
  readonly Y: number;
  /** user → items CSR (Int32 offsets, Int32 indices, Float32 confidences), and its transpose. */
  readonly uiOffsets: number;
  readonly uiIndices: number;
  readonly uiConf: number;
  readonly iuOffsets: number;
  readonly iuIndices: number;
  readonly iuConf: number;
  /** Float32 per-row regulariser beyond the λ inside G (nUsers, nItems). */
  readonly uiReg: number;
  readonly iuReg: number;
  /** f×f FᵀF + λI of the fixed side, Float64 (JS kernels) and a Float32 copy (wasm kernel). */
  readonly G: number;
  readonly G32: number;
  /** Float64 per-chunk partial Grams (max chunks × f×f) and per-chunk loss partials. */
  readonly gramPartials: number;
  readonly lossPartials: number;
  /** Int32[1]: next chunk to claim. */
  readonly counter: number;
  /** Float32 scratch of the wasm kernel: 4·f per participant slot. */
  readonly scratch: number;
  readonly bytes: number;
}

/** Everything a participant needs (posted once, at worker start). */
export interface AlsBuffers {
  readonly f: number;
  readonly cgSteps: number;
  /** Exact Cholesky solves instead of CG. */
  readonly exact: boolean;
  /** CG kernel: WebAssembly SIMD over `memory`, or the JS `cgSolveRows`. */
  readonly kernel: "wasm" | "js";
  readonly nUsers: number;
  readonly nItems: number;
  readonly nnz: number;
  readonly slots: number;
  /** The shared wasm memory whose buffer is `sab` (null for the JS kernel). */
  readonly memory: WasmSharedMemory | null;
  readonly sab: SharedArrayBuffer;
  readonly at: AlsLayout;
}

/** side 0: solve user rows against fixed item factors; side 1: item rows against user factors. */
export type AlsSide = 0 | 1;
export interface AlsTask {
  readonly op: "gram" | "solve" | "loss";
  readonly side: AlsSide;
}

export function gramChunks(nRows: number): number {
  return Math.ceil(nRows / GRAM_CHUNK);
}

export function rowChunks(nRows: number): number {
  return Math.ceil(nRows / ROW_CHUNK);
}

/**
 * Lays out and allocates the shared state of one fit for `slots` participants (CSR contents and
 * factors are filled by the caller through an `AlsEngine`).
 */
export function allocAlsBuffers(
  f: number,
  cgSteps: number,
  exact: boolean,
  kernel: "wasm" | "js",
  nUsers: number,
  nItems: number,
  nnz: number,
  slots: number,
): AlsBuffers {
  const maxRows = Math.max(nUsers, nItems);
  let top = 0;
  const take = (bytes: number) => {
    const at = top;
    top += Math.ceil(bytes / 16) * 16;
    return at;
  };
  const at: AlsLayout = {
    X: take(nUsers * f * 4),
    Y: take(nItems * f * 4),
    uiOffsets: take((nUsers + 1) * 4),
    uiIndices: take(nnz * 4),
    uiConf: take(nnz * 4),
    iuOffsets: take((nItems + 1) * 4),
    iuIndices: take(nnz * 4),
    iuConf: take(nnz * 4),
    uiReg: take(nUsers * 4),
    iuReg: take(nItems * 4),
    G: take(f * f * 8),
    G32: take(f * f * 4),
    gramPartials: take(Math.max(1, gramChunks(maxRows)) * f * f * 8),
    lossPartials: take(Math.max(1, rowChunks(maxRows)) * 8),
    counter: take(4),
    scratch: take(slots * 4 * f * 4),
    bytes: 0,
  };
  const bytes = top;
  const memory = kernel === "wasm" ? createSharedMemory(bytes) : null;
  const sab = memory === null ? new SharedArrayBuffer(bytes) : memory.buffer;
  return { f, cgSteps, exact, kernel, nUsers, nItems, nnz, slots, memory, sab, at: { ...at, bytes } };
}

/**
 * out[outOff ..] = F_cᵀF_c (full f×f, float64) for the rows [r0, r1) of F, through the wasm 4×8
 * GEMM micro-kernel (C = A·Bᵀ with A = B = F_cᵀ, `dim` = r1 − r0): F_cᵀ's 4-row tiles and 8-row
 * panels are contiguous 4- and 8-float runs of F's rows, so packing is two strided copies.
 * f32 accumulation over ≤ GRAM_CHUNK rows (relative error ~1e-5 on Gowalla); blocks are summed
 * in float64 by the caller.
 */
export function gramWasmInto(
  g: WasmGemm,
  F: Float32Array,
  f: number,
  r0: number,
  r1: number,
  out: Float64Array,
  outOff: number,
): void {
  const len = r1 - r0;
  const m = g.f32;
  const bAt = len * f; // floats: A tiles then B panels then C
  const cAt = 2 * len * f;
  for (let t = 0; t < f / 4; t++) {
    const o = t * len * 4;
    for (let i = 0; i < len; i++) {
      const src = (r0 + i) * f + 4 * t;
      const dst = o + i * 4;
      m[dst] = F[src];
      m[dst + 1] = F[src + 1];
      m[dst + 2] = F[src + 2];
      m[dst + 3] = F[src + 3];
    }
  }
  for (let q = 0; q < f / 8; q++) {
    const o = bAt + q * len * 8;
    for (let i = 0; i < len; i++)
      m.set(F.subarray((r0 + i) * f + 8 * q, (r0 + i) * f + 8 * q + 8), o + i * 8);
  }
  g.gemm4x8(0, f / 4, bAt * 4, f / 8, len, cAt * 4, f);
  for (let t = 0; t < f * f; t++) out[outOff + t] = m[cAt + t];
}

export class AlsEngine {
  readonly f: number;
  readonly X: Float32Array;
  readonly Y: Float32Array;
  readonly G: Float64Array;
  readonly gramPartials: Float64Array;
  readonly lossPartials: Float64Array;
  readonly counter: Int32Array;
  readonly G32: Float32Array;
  private readonly b: AlsBuffers;
  private readonly wasm: AlsWasmKernel | null;
  private readonly scratchAt: number;
  private gemm: WasmGemm | null | undefined = undefined;
  private readonly csr: readonly {
    offsets: Int32Array;
    indices: Int32Array;
    conf: Float32Array;
    reg: Float32Array;
  }[];
  // Per-participant scratch, sized once.
  private readonly v0: Float64Array;
  private readonly v1: Float64Array;
  private readonly v2: Float64Array;
  private readonly v3: Float64Array;
  private readonly A: Float64Array;

  /** `slot` picks this participant's scratch block (0 ≤ slot < b.slots). */
  constructor(b: AlsBuffers, slot: number) {
    this.b = b;
    const f = b.f;
    const { sab, at } = b;
    this.f = f;
    this.X = new Float32Array(sab, at.X, b.nUsers * f);
    this.Y = new Float32Array(sab, at.Y, b.nItems * f);
    this.G = new Float64Array(sab, at.G, f * f);
    this.G32 = new Float32Array(sab, at.G32, f * f);
    this.gramPartials = new Float64Array(sab, at.gramPartials, (at.lossPartials - at.gramPartials) / 8);
    this.lossPartials = new Float64Array(sab, at.lossPartials, (at.counter - at.lossPartials) / 8);
    this.counter = new Int32Array(sab, at.counter, 1);
    this.csr = [
      {
        offsets: new Int32Array(sab, at.uiOffsets, b.nUsers + 1),
        indices: new Int32Array(sab, at.uiIndices, b.nnz),
        conf: new Float32Array(sab, at.uiConf, b.nnz),
        reg: new Float32Array(sab, at.uiReg, b.nUsers),
      },
      {
        offsets: new Int32Array(sab, at.iuOffsets, b.nItems + 1),
        indices: new Int32Array(sab, at.iuIndices, b.nnz),
        conf: new Float32Array(sab, at.iuConf, b.nnz),
        reg: new Float32Array(sab, at.iuReg, b.nItems),
      },
    ];
    this.v0 = new Float64Array(f);
    this.v1 = new Float64Array(f);
    this.v2 = new Float64Array(f);
    this.v3 = new Float64Array(f);
    this.A = new Float64Array(f * f);
    this.wasm = b.memory === null ? null : createAlsWasmKernel(b.memory);
    this.scratchAt = at.scratch + slot * 4 * f * 4;
  }

  /**
   * The wasm GEMM used for Gram blocks (its own memory, one per participant), or null for the JS
   * kernel: only with kernel "wasm", f % 8 = 0 and WebAssembly SIMD present.
   */
  private gramGemm(): WasmGemm | null {
    if (this.gemm === undefined) {
      const f = this.f;
      const g = this.b.kernel === "wasm" && f % 8 === 0 ? createWasmGemm() : null;
      g?.reserve((2 * GRAM_CHUNK * f + f * f) * 4);
      this.gemm = g;
    }
    return this.gemm;
  }

  /** The two CSR views [user → items, item → users], for the caller to fill. */
  matrices(): readonly { offsets: Int32Array; indices: Int32Array; conf: Float32Array; reg: Float32Array }[] {
    return this.csr;
  }

  /** Claims and runs chunks of `task` until none is left. */
  run(task: AlsTask): void {
    const f = this.f;
    const rows = task.side === 0 ? this.X : this.Y;
    const fixed = task.side === 0 ? this.Y : this.X;
    const nRows = task.side === 0 ? this.b.nUsers : this.b.nItems;
    const nFixed = task.side === 0 ? this.b.nItems : this.b.nUsers;
    const m = this.csr[task.side];
    if (task.op === "gram") {
      const n = gramChunks(nFixed);
      const ff = f * f;
      const g = this.gramGemm();
      for (let c = Atomics.add(this.counter, 0, 1); c < n; c = Atomics.add(this.counter, 0, 1)) {
        const r0 = c * GRAM_CHUNK;
        const r1 = Math.min(nFixed, r0 + GRAM_CHUNK);
        if (g === null) {
          this.gramPartials.fill(0, c * ff, (c + 1) * ff);
          gramAddInto(fixed, f, r0, r1, this.gramPartials, c * ff);
        } else {
          gramWasmInto(g, fixed, f, r0, r1, this.gramPartials, c * ff);
        }
      }
      return;
    }
    const n = rowChunks(nRows);
    for (let c = Atomics.add(this.counter, 0, 1); c < n; c = Atomics.add(this.counter, 0, 1)) {
      const r0 = c * ROW_CHUNK;
      const r1 = Math.min(nRows, r0 + ROW_CHUNK);
      if (task.op === "loss") {
        this.lossPartials[c] = lossRows(
          rows,
          fixed,
          f,
          m.offsets,
          m.indices,
          m.conf,
          this.G,
          m.reg,
          r0,
          r1,
          this.v0,
          this.v1,
        );
      } else if (this.b.exact) {
        choleskySolveRows(
          rows,
          fixed,
          f,
          m.offsets,
          m.indices,
          m.conf,
          this.G,
          m.reg,
          r0,
          r1,
          this.A,
          this.v0,
        );
      } else if (this.wasm !== null) {
        const at = this.b.at;
        const [off, idx, conf, reg] =
          task.side === 0
            ? [at.uiOffsets, at.uiIndices, at.uiConf, at.uiReg]
            : [at.iuOffsets, at.iuIndices, at.iuConf, at.iuReg];
        const [xAt, yAt] = task.side === 0 ? [at.X, at.Y] : [at.Y, at.X];
        this.wasm.cgRows(xAt, yAt, f, off, idx, conf, at.G32, reg, r0, r1, this.b.cgSteps, this.scratchAt);
      } else {
        const s = this.b.cgSteps;
        cgSolveRows(
          rows,
          fixed,
          f,
          m.offsets,
          m.indices,
          m.conf,
          this.G,
          m.reg,
          r0,
          r1,
          s,
          this.v0,
          this.v1,
          this.v2,
          this.v3,
        );
      }
    }
  }
}
