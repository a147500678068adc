/**
 * WebAssembly SIMD kernel for SGNS (sgns-wasm.wat) and its shared-memory layout. The two tables
 * live in one shared `WebAssembly.Memory` (its buffer is a SharedArrayBuffer), which every Hogwild
 * worker imports into its own instance of the kernel; each worker owns one scratch slot (input
 * gradient and pair buffer) in that memory. Pair generation and all randomness stay in JS
 * (`sgnsRange`), so the WASM kernel sees exactly the pairs the JS reference `JsPairKernel` would.
 * The bytes are embedded (sgns-wasm.bytes.ts); `wabt` is a dev dependency only.
 */

import { EXP_TABLE_SIZE, type PairKernel, sigmoidTable } from "./sgns.ts";
import { SGNS_WASM_BASE64 } from "./sgns-wasm.bytes.ts";
import { align, WasmKernelModule, type WasmMemory } from "./wasm-kernel.ts";

/** Pair-buffer ints per worker slot (256 KiB). */
export const SGNS_BUF_INTS = 1 << 16;

interface SgnsExports {
  pairs(
    syn0: number,
    syn1: number,
    exp: number,
    buf: number,
    n: number,
    dim: number,
    lr: number,
    e: number,
    skip: number,
  ): void;
}
const kernel = new WasmKernelModule(SGNS_WASM_BASE64);

/** The embedded kernel's bytes. */
export function sgnsWasmBytes(): Uint8Array {
  return kernel.bytes();
}

/** Whether this runtime runs the kernel (SIMD and shared memory: Node ≥ 16.4). */
export function sgnsWasmSupported(): boolean {
  return kernel.supported();
}

/** Byte offsets of everything in the shared memory; plain data plus the memory (cloneable). */
export interface SgnsWasmLayout {
  readonly memory: WasmMemory;
  readonly nTokens: number;
  readonly dim: number;
  readonly exp: number;
  readonly syn0: number;
  readonly syn1: number;
  /** Slot i's input gradient at slots + i·slotBytes, its pair buffer dim·4 bytes later. */
  readonly slots: number;
  readonly slotBytes: number;
  readonly nSlots: number;
}

/**
 * Allocates the shared memory for `nTokens` rows of `dim` floats per table and `nSlots` worker
 * slots, with the σ table written; null where WASM SIMD/shared memory is unavailable or the
 * tables exceed 32-bit addressing (callers fall back to the JS kernel).
 */
export function createSgnsLayout(nTokens: number, dim: number, nSlots: number): SgnsWasmLayout | null {
  if (dim % 4 !== 0) return null;
  const exp = 0;
  const syn0 = align(EXP_TABLE_SIZE * 4, 64);
  const syn1 = align(syn0 + nTokens * dim * 4, 64);
  const slots = align(syn1 + nTokens * dim * 4, 64);
  const slotBytes = align(dim * 4, 64) + SGNS_BUF_INTS * 4;
  const memory = kernel.sharedMemory(slots + nSlots * slotBytes);
  if (memory === null) return null;
  new Float32Array(memory.buffer, exp, EXP_TABLE_SIZE).set(sigmoidTable());
  return { memory, nTokens, dim, exp, syn0, syn1, slots, slotBytes, nSlots };
}

/** syn0 and syn1 as views over the shared memory. */
export function sgnsTables(l: SgnsWasmLayout): { syn0: Float32Array; syn1: Float32Array } {
  return {
    syn0: new Float32Array(l.memory.buffer, l.syn0, l.nTokens * l.dim),
    syn1: new Float32Array(l.memory.buffer, l.syn1, l.nTokens * l.dim),
  };
}

/** The WASM kernel on slot `slot` of a layout (one per thread). */
export class WasmPairKernel implements PairKernel {
  readonly buf: Int32Array;
  private readonly ex: SgnsExports;
  private readonly e: number;
  private readonly bufPtr: number;

  /** `skipSaturated`: pairs with |f| ≥ MAX_EXP get no update (gensim) instead of a clamped σ. */
  constructor(
    private readonly l: SgnsWasmLayout,
    slot: number,
    private readonly skipSaturated = false,
  ) {
    if (slot < 0 || slot >= l.nSlots) throw new RangeError(`sgns-wasm: slot ${slot} of ${l.nSlots}`);
    this.ex = kernel.instantiate(l.memory) as SgnsExports;
    this.e = l.slots + slot * l.slotBytes;
    this.bufPtr = this.e + align(l.dim * 4, 64);
    this.buf = new Int32Array(l.memory.buffer, this.bufPtr, SGNS_BUF_INTS);
  }

  run(nPairs: number, lr: number): void {
    const l = this.l;
    this.ex.pairs(l.syn0, l.syn1, l.exp, this.bufPtr, nPairs, l.dim, lr, this.e, this.skipSaturated ? 1 : 0);
  }
}
