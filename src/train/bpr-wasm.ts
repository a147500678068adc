/**
 * WebAssembly SIMD kernel for MF-BPR (bpr-wasm.wat) and its shared-memory layout. Both tables live
 * in one shared `WebAssembly.Memory` (its buffer is a SharedArrayBuffer), which every Hogwild
 * worker imports into its own instance of the kernel; each worker owns one slot (a scratch line
 * and a triple buffer) in that memory. The triples and all randomness stay in JS
 * (`pairwiseSgdBlocks` in fused-pairwise.ts draws the negatives in the order the JS reference
 * `pairwiseSgdRange` does), so the WASM kernel sees exactly the triples the JS kernel would.
 * The bytes are embedded (bpr-wasm.bytes.ts); `wabt` is a dev dependency only.
 *
 * The kernel implements one loss, BPR: ℓ(x) = softplus(−x), ℓ'(x) = −σ(−x). Which pairwise form a
 * loss has is read structurally (`isBprForm` probes it), never from its name.
 */
import { sigmoid, softplus } from "../losses/kernels.ts";
import type { PairwiseForm } from "../losses/types.ts";
import { BPR_WASM_BASE64 } from "./bpr-wasm.bytes.ts";
import type { TripleKernel } from "./fused-pairwise.ts";
import { align, WasmKernelModule, type WasmMemory } from "./wasm-kernel.ts";

/** Triples per kernel call (each worker's buffer: 3 × 4 bytes each, 48 KiB). */
export const BPR_BLOCK = 4096;

interface BprExports {
  bpr(
    U: number,
    V: number,
    buf: number,
    n: number,
    dim: number,
    lr: number,
    l2: number,
    scratch: number,
  ): number;
}
const kernel = new WasmKernelModule(BPR_WASM_BASE64);

/** The embedded kernel's bytes. */
export function bprWasmBytes(): Uint8Array {
  return kernel.bytes();
}

/** Whether this runtime runs the kernel (SIMD and shared memory: Node ≥ 16.4). */
export function bprWasmSupported(): boolean {
  return kernel.supported();
}

/**
 * Whether a pairwise form is BPR's, ℓ(x) = softplus(−x) with ℓ'(x) = −σ(−x): the form is probed
 * at a few margins on both sides of 0 and in both tails (structural: any loss computing exactly
 * this qualifies, whatever it is called).
 */
export function isBprForm(pw: PairwiseForm): boolean {
  const out = new Float64Array(2);
  for (const x of [-40, -6, -1.5, -0.25, 0, 0.3, 2, 7, 45]) {
    pw.lossAndGrad(x, out);
    const l = softplus(-x);
    const g = -sigmoid(-x);
    if (!(Math.abs(out[0] - l) <= 1e-12 * Math.max(1, l) && Math.abs(out[1] - g) <= 1e-15)) return false;
  }
  return true;
}

/** Byte offsets of everything in the shared memory; plain data plus the memory (cloneable). */
export interface BprWasmLayout {
  readonly memory: WasmMemory;
  readonly nU: number;
  readonly nV: number;
  readonly dim: number;
  readonly U: number;
  readonly V: number;
  /** Slot i's scratch line at slots + i·slotBytes, its triple buffer 64 bytes later. */
  readonly slots: number;
  readonly slotBytes: number;
  readonly nSlots: number;
}

/**
 * Allocates the shared memory for `nU` query rows and `nV` item rows of `dim` floats and `nSlots`
 * worker slots; null where WASM SIMD/shared memory is unavailable, dim is not a multiple of 4 or
 * the tables exceed 32-bit addressing (callers fall back to the JS kernel).
 */
export function createBprLayout(nU: number, nV: number, dim: number, nSlots: number): BprWasmLayout | null {
  if (dim % 4 !== 0 || dim <= 0 || nSlots < 1) return null;
  const U = 0;
  const V = align(U + nU * dim * 4, 64);
  const slots = align(V + nV * dim * 4, 64);
  const slotBytes = 64 + BPR_BLOCK * 12;
  const memory = kernel.sharedMemory(slots + nSlots * slotBytes);
  if (memory === null) return null;
  return { memory, nU, nV, dim, U, V, slots, slotBytes, nSlots };
}

/** U and V as views over the shared memory. */
export function bprTables(l: BprWasmLayout): { U: Float32Array; V: Float32Array } {
  return {
    U: new Float32Array(l.memory.buffer, l.U, l.nU * l.dim),
    V: new Float32Array(l.memory.buffer, l.V, l.nV * l.dim),
  };
}

/** The WASM kernel on slot `slot` of a layout (one per thread). */
export class WasmBprKernel implements TripleKernel {
  readonly buf: Int32Array;
  private readonly ex: BprExports;
  private readonly scratch: number;

  constructor(
    private readonly l: BprWasmLayout,
    slot: number,
  ) {
    if (slot < 0 || slot >= l.nSlots || !Number.isInteger(slot))
      throw new RangeError(`bpr-wasm: slot ${slot} of ${l.nSlots}`);
    this.ex = kernel.instantiate(l.memory) as BprExports;
    this.scratch = l.slots + slot * l.slotBytes;
    this.buf = new Int32Array(l.memory.buffer, this.scratch + 64, BPR_BLOCK * 3);
  }

  run(n: number, lr: number, l2: number): number {
    const l = this.l;
    return this.ex.bpr(l.U, l.V, this.scratch + 64, n, l.dim, lr, l2, this.scratch);
  }
}
