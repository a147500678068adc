/**
 * What the Hogwild WebAssembly kernels (sgns-wasm, bpr-wasm) share: the few WebAssembly globals
 * they use (the project's lib settings do not declare them), one support check (SIMD and shared
 * memory: Node ≥ 16.4), the shared memory every worker imports, and one compiled module per
 * kernel, instantiated once per thread over that memory.
 */

const PAGE = 65536;

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}

function wasmApi(): WasmApi | null {
  const w = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  return w === undefined ? null : w;
}

/** Rounds x up to a multiple of a. */
export const align = (x: number, a: number): number => Math.ceil(x / a) * a;

/** One embedded kernel (base64 bytes). */
export class WasmKernelModule {
  private module: object | null = null;

  constructor(private readonly base64: string) {}

  bytes(): Uint8Array {
    return new Uint8Array(Buffer.from(this.base64, "base64"));
  }

  /** Whether this runtime runs the kernel: it validates and shared memories can be made. */
  supported(): boolean {
    const w = wasmApi();
    if (w === null || !w.validate(this.bytes())) return false;
    try {
      new w.Memory({ initial: 1, maximum: 1, shared: true });
      return true;
    } catch {
      return false;
    }
  }

  /** A shared memory of at least `bytes` bytes; null when unsupported or beyond 32-bit addressing. */
  sharedMemory(bytes: number): WasmMemory | null {
    const w = wasmApi();
    if (w === null || !this.supported()) return null;
    const pages = Math.ceil(bytes / PAGE);
    if (pages > 65536) return null;
    try {
      return new w.Memory({ initial: pages, maximum: pages, shared: true });
    } catch {
      return null;
    }
  }

  /** A new instance over `memory` (one per thread); its exports. */
  instantiate(memory: WasmMemory): unknown {
    const w = wasmApi() as WasmApi;
    if (this.module === null) this.module = new w.Module(this.bytes());
    return new w.Instance(this.module, { env: { memory } }).exports;
  }
}
