/**
 * WebAssembly SIMD score kernels (C = A·Bᵀ, f32x4, 4×8 register tile; a threshold filter for
 * top-K selection) and their JS glue.
 * The kernel's source is `gemm-wasm.wat` beside this file; its assembled bytes are embedded in
 * `gemm-wasm.bytes.ts`, so nothing is assembled at run time and `wabt` stays a dev dependency.
 * Each `WasmGemm` owns one instance on its own memory (one per worker thread). Where WebAssembly
 * SIMD is unavailable `createWasmGemm()` returns null and callers use `gemmNT` from blas.ts.
 */
import { gemmNT } from "./blas.ts";
import { GEMM_WASM_BASE64 } from "./gemm-wasm.bytes.ts";

/** Rows per A tile and per B panel of the micro-kernel. */
export const GEMM_MR = 4;
export const GEMM_NR = 8;

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmExports {
  readonly memory: WasmMemory;
  gemm4x8(a: number, mt: number, b: number, nt: number, dim: number, c: number, ldc: number): void;
  above8(c: number, ldc: number, m: number, ng: number, thr: number, out: number): number;
}
/** The few WebAssembly globals used here (the project's lib settings do not declare them). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  validate(bytes: Uint8Array): boolean;
}

const PAGE = 65536;
let bytesCache: Uint8Array | null = null;
let moduleCache: object | null = null;

function wasmApi(): WasmApi | null {
  const w = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  return w === undefined ? null : w;
}

/** The embedded kernel module's bytes. */
export function gemmWasmBytes(): Uint8Array {
  if (bytesCache === null) bytesCache = new Uint8Array(Buffer.from(GEMM_WASM_BASE64, "base64"));
  return bytesCache;
}

/** Whether this runtime validates the SIMD kernel (Node ≥ 16.4 does). */
export function wasmSimdSupported(): boolean {
  const w = wasmApi();
  return w?.validate(gemmWasmBytes()) === true;
}

/**
 * One kernel instance on its own linear memory. Addresses are byte offsets into that memory;
 * the caller lays out its packed operands with `reserve` and writes them through `f32`.
 */
export class WasmGemm {
  private readonly ex: WasmExports;
  /** Float32 view of the whole memory; replaced whenever `reserve` grows it. */
  f32: Float32Array;
  /** Int32 view of the same memory. */
  i32: Int32Array;

  constructor(exports: WasmExports) {
    this.ex = exports;
    this.f32 = new Float32Array(exports.memory.buffer);
    this.i32 = new Int32Array(exports.memory.buffer);
  }

  /** Grows the memory to at least `bytes` (contents are kept; refresh views from `f32`). */
  reserve(bytes: number): void {
    const have = this.ex.memory.buffer.byteLength;
    if (bytes <= have) return;
    this.ex.memory.grow(Math.ceil((bytes - have) / PAGE));
    this.f32 = new Float32Array(this.ex.memory.buffer);
    this.i32 = new Int32Array(this.ex.memory.buffer);
  }

  /**
   * C (row-major, leading dimension ldc floats, at byte cPtr) = packed A (mt tiles of 4 rows at
   * aPtr) · packed Bᵀ (nt panels of 8 rows at bPtr), over `dim` ≥ 1. Writes 4·mt × 8·nt values.
   */
  gemm4x8(aPtr: number, mt: number, bPtr: number, nt: number, dim: number, cPtr: number, ldc: number): void {
    this.ex.gemm4x8(aPtr, mt, bPtr, nt, dim, cPtr, ldc);
  }

  /**
   * Candidate groups of a score block: for each row r < m and group g < ng ≤ 256 of 8 columns,
   * the mask of columns with C[r, 8g + b] > thr[r] (f32 at thrPtr + 4r; bit b ↔ column 8g + b);
   * non-zero ones are appended at byte outPtr as the i32 (r << 16) | (g << 8) | mask, rows
   * ascending, groups ascending within a row. Returns the number of entries.
   */
  above8(cPtr: number, ldc: number, m: number, ng: number, thrPtr: number, outPtr: number): number {
    return this.ex.above8(cPtr, ldc, m, ng, thrPtr, outPtr);
  }
}

/** A fresh kernel instance, or null when WebAssembly SIMD is unavailable. */
export function createWasmGemm(): WasmGemm | null {
  const w = wasmApi();
  if (w === null) return null;
  try {
    if (moduleCache === null) moduleCache = new w.Module(gemmWasmBytes());
    const inst = new w.Instance(moduleCache, {});
    return new WasmGemm(inst.exports as WasmExports);
  } catch {
    return null;
  }
}

/**
 * Packs rows of `src` (row-major, `dim` wide) into panels of `width` rows for the kernel:
 * panel q, element (row q·width + s, p) at dst[dstOff + (q·dim + p)·width + s]. Source row t is
 * `rows[rowFrom + t]` when `rows` is given, else `rowFrom + t`, for t < nRows; rows past nRows up
 * to the next multiple of `width` are zero. Returns the number of floats written.
 */
export function packPanelsInto(
  src: Float32Array,
  rows: Int32Array | null,
  rowFrom: number,
  nRows: number,
  dim: number,
  width: number,
  dst: Float32Array,
  dstOff: number,
): number {
  const nPanels = Math.ceil(nRows / width);
  for (let q = 0; q < nPanels; q++) {
    const base = dstOff + q * dim * width;
    for (let s = 0; s < width; s++) {
      const t = q * width + s;
      if (t >= nRows) {
        for (let p = 0; p < dim; p++) dst[base + p * width + s] = 0;
        continue;
      }
      const r = rows === null ? rowFrom + t : rows[rowFrom + t];
      const so = r * dim;
      for (let p = 0; p < dim; p++) dst[base + p * width + s] = src[so + p];
    }
  }
  return nPanels * dim * width;
}

/**
 * Same contract as `gemmNT` in blas.ts (C[cOff + i·ldc + j] = A row aRow0+i · B row bRow0+j),
 * computed by the wasm kernel. Convenience and test entry: it packs both operands and copies C
 * out on every call, so hot loops should pack once and call `WasmGemm.gemm4x8` directly.
 */
export function gemmNTWasm(
  g: WasmGemm,
  A: Float32Array,
  aRow0: number,
  m: number,
  B: Float32Array,
  bRow0: number,
  n: number,
  dim: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
): void {
  if (m === 0 || n === 0) return;
  if (dim === 0) {
    for (let i = 0; i < m; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  const mt = Math.ceil(m / GEMM_MR);
  const nt = Math.ceil(n / GEMM_NR);
  const ldw = nt * GEMM_NR;
  const aFloats = mt * GEMM_MR * dim;
  const bFloats = nt * GEMM_NR * dim;
  g.reserve((aFloats + bFloats + mt * GEMM_MR * ldw) * 4);
  const f = g.f32;
  packPanelsInto(A, null, aRow0, m, dim, GEMM_MR, f, 0);
  packPanelsInto(B, null, bRow0, n, dim, GEMM_NR, f, aFloats);
  const cBase = aFloats + bFloats;
  g.gemm4x8(0, mt, aFloats * 4, nt, dim, cBase * 4, ldw);
  for (let i = 0; i < m; i++) C.set(f.subarray(cBase + i * ldw, cBase + i * ldw + n), cOff + i * ldc);
}

/** C = A·Bᵀ (the `gemmNT` contract) by the wasm kernel when present, else by the JS fallback. */
export class Gemm {
  private readonly g: WasmGemm | null = createWasmGemm();
  nt(
    A: Float32Array,
    aRow0: number,
    m: number,
    B: Float32Array,
    bRow0: number,
    n: number,
    dim: number,
    C: Float32Array,
    cOff: number,
    ldc: number,
  ): void {
    if (m === 0 || n === 0) return;
    if (this.g !== null) gemmNTWasm(this.g, A, aRow0, m, B, bRow0, n, dim, C, cOff, ldc);
    else gemmNT(A, aRow0, m, B, bRow0, n, dim, C, cOff, ldc);
  }
}
