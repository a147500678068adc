/**
 * Glue of the WebAssembly SIMD CG kernel (`als-cg-wasm.wat`, bytes embedded in
 * `als-cg-wasm.bytes.ts`). The module imports one shared `WebAssembly.Memory` that holds the whole
 * ALS state, so the main thread and every worker instantiate it over the same bytes (no copies).
 * Where WebAssembly SIMD or shared memory is unavailable, `alsWasmSupported()` is false and ALS
 * runs `cgSolveRows` from als-kernels.ts.
 */
import { ALS_CG_WASM_BASE64 } from "./als-cg-wasm.bytes.ts";

/** The few WebAssembly globals used here (the project's lib settings do not declare them). */
export interface WasmSharedMemory {
  readonly buffer: SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: new (d: { initial: number; maximum: number; shared: true }) => WasmSharedMemory;
  validate(bytes: Uint8Array): boolean;
}

export interface AlsWasmKernel {
  /** CG update of rows [r0, r1) of X (byte addresses; see the .wat header). */
  cgRows(
    X: number,
    Y: number,
    f: number,
    off: number,
    idx: number,
    conf: number,
    G: number,
    reg: number,
    r0: number,
    r1: number,
    steps: number,
    scratch: number,
  ): void;
}

export const WASM_PAGE = 65536;
let moduleCache: object | null = null;
let supported: boolean | null = null;

function api(): WasmApi | null {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly ?? null;
}

function bytes(): Uint8Array {
  return new Uint8Array(Buffer.from(ALS_CG_WASM_BASE64, "base64"));
}

/** Whether this runtime runs the SIMD kernel over shared memory (Node ≥ 16.4 does). */
export function alsWasmSupported(): boolean {
  if (supported === null) {
    const w = api();
    try {
      supported = w?.validate(bytes()) === true && typeof SharedArrayBuffer === "function";
    } catch {
      supported = false;
    }
  }
  return supported;
}

/** A shared memory of `byteLength` bytes (rounded up to pages; fixed size). */
export function createSharedMemory(byteLength: number): WasmSharedMemory {
  const w = api();
  if (w === null) throw new Error("WebAssembly is not available");
  const pages = Math.max(1, Math.ceil(byteLength / WASM_PAGE));
  return new w.Memory({ initial: pages, maximum: pages, shared: true });
}

/** Instantiates the kernel over `memory` (once per thread). */
export function createAlsWasmKernel(memory: WasmSharedMemory): AlsWasmKernel {
  const w = api();
  if (w === null) throw new Error("WebAssembly is not available");
  moduleCache ??= new w.Module(bytes());
  const inst = new w.Instance(moduleCache, { env: { memory } });
  return inst.exports as AlsWasmKernel;
}
