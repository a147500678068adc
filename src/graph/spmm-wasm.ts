/**
 * JS glue for the WebAssembly SIMD SpMM (`spmm-wasm.wat`, bytes embedded in `spmm-wasm.bytes.ts`):
 * one instance owns a linear memory holding a graph's CSR (offsets, indices, values) and
 * `nBuffers` dense nNodes × dim blocks, exposed as Float32Array views. `spmm(src, dst, r0, r1)`
 * computes rows [r0, r1) of buffer dst = Â · buffer src. Returns null from `create` where
 * WebAssembly SIMD is missing or dim is not a multiple of 16 (callers use spmm.ts).
 */
import { SPMM_WASM_BASE64 } from "./spmm-wasm.bytes.ts";

interface WasmExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  spmm(
    off: number,
    idx: number,
    val: number,
    x: number,
    dim: number,
    out: number,
    r0: number,
    r1: number,
  ): void;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  validate(bytes: Uint8Array): boolean;
}

const PAGE = 65536;
let moduleCache: object | null = null;

/** The embedded module's bytes. */
export function spmmWasmBytes(): Uint8Array {
  return new Uint8Array(Buffer.from(SPMM_WASM_BASE64, "base64"));
}

function wasmModule(): object | null {
  if (moduleCache !== null) return moduleCache;
  const w = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  const bytes = spmmWasmBytes();
  if (w === undefined || !w.validate(bytes)) return null;
  moduleCache = new w.Module(bytes);
  return moduleCache;
}

export class WasmSpmm {
  /** Dense nNodes × dim blocks inside the instance's memory. */
  readonly buffers: Float32Array[];
  private readonly ptrs: number[];

  private constructor(
    private readonly ex: WasmExports,
    private readonly offPtr: number,
    private readonly idxPtr: number,
    private readonly valPtr: number,
    readonly nNodes: number,
    readonly dim: number,
    nBuffers: number,
    bufPtr: number,
  ) {
    const bytes = nNodes * dim * 4;
    this.ptrs = Array.from({ length: nBuffers }, (_, b) => bufPtr + b * bytes);
    this.buffers = this.ptrs.map((p) => new Float32Array(ex.memory.buffer, p, nNodes * dim));
  }

  /** Copies the graph into a new instance's memory with `nBuffers` dense blocks; null when unsupported. */
  static create(
    g: {
      readonly nNodes: number;
      readonly offsets: Int32Array;
      readonly indices: Int32Array;
      readonly values: Float32Array;
    },
    dim: number,
    nBuffers: number,
  ): WasmSpmm | null {
    if (dim % 16 !== 0) return null;
    const mod = wasmModule();
    if (mod === null) return null;
    const w = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const ex = new w.Instance(mod, {}).exports as WasmExports;
    const align = (n: number) => Math.ceil(n / 16) * 16;
    const offPtr = 16;
    const idxPtr = align(offPtr + g.offsets.length * 4);
    const valPtr = align(idxPtr + g.indices.length * 4);
    const bufPtr = align(valPtr + g.values.length * 4);
    const total = bufPtr + nBuffers * g.nNodes * dim * 4;
    if (total > 2 ** 32 - PAGE) return null;
    const have = ex.memory.buffer.byteLength;
    if (total > have) ex.memory.grow(Math.ceil((total - have) / PAGE));
    const buf = ex.memory.buffer;
    new Int32Array(buf, offPtr, g.offsets.length).set(g.offsets);
    new Int32Array(buf, idxPtr, g.indices.length).set(g.indices);
    new Float32Array(buf, valPtr, g.values.length).set(g.values);
    return new WasmSpmm(ex, offPtr, idxPtr, valPtr, g.nNodes, dim, nBuffers, bufPtr);
  }

  /** buffers[dst] rows [r0, r1) = Â · buffers[src]. */
  spmm(src: number, dst: number, r0: number, r1: number): void {
    this.ex.spmm(this.offPtr, this.idxPtr, this.valPtr, this.ptrs[src], this.dim, this.ptrs[dst], r0, r1);
  }
}
