/**
 * Layer-combined propagation over a symmetric normalised graph (LightGCN, He et al. SIGIR'20,
 * eqs. 7–8): E^(k+1) = Â E^(k), out = Σ_{k=0..K} α_k E^(k) with α_k = 1/(K+1) by default.
 * Because Â = D^-1/2 A D^-1/2 is symmetric, the map E^(0) ↦ out is the symmetric linear operator
 * P = Σ α_k Â^k, so its backward dE^(0) = Pᵀ d(out) = P d(out) is the same call (`runInto` on
 * the gradient). The SpMMs run in WebAssembly SIMD (spmm-wasm.ts) when dim is a multiple of 16,
 * else in the typed-array kernel (spmm.ts); buffers are allocated once.
 */
import { assert } from "../errors.ts";
import { axpyRows, spmmRowsInto } from "./spmm.ts";
import { WasmSpmm } from "./spmm-wasm.ts";

export interface PropagationGraph {
  readonly nNodes: number;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  /** Â's stored values (symmetric: Â_uv = Â_vu). */
  readonly values: Float32Array;
}

export interface PropagationOptions {
  /** Layer weights α_0..α_K. Default 1/(K+1) each. */
  readonly alphas?: ArrayLike<number>;
  /** "auto" (default: WASM SIMD when possible) or "js". */
  readonly kernel?: "auto" | "js";
}

export class Propagation {
  readonly alphas: Float64Array;
  /** "wasm" or "js": the SpMM kernel in use. */
  readonly kernel: "wasm" | "js";
  private readonly wasm: WasmSpmm | null;
  private readonly a: Float32Array;
  private readonly b: Float32Array;

  constructor(
    readonly graph: PropagationGraph,
    readonly dim: number,
    readonly layers: number,
    o: PropagationOptions = {},
  ) {
    assert(
      Number.isInteger(layers) && layers >= 0,
      () => `propagation: layers must be an integer ≥ 0, got ${layers}`,
    );
    const alphas = o.alphas;
    this.alphas = new Float64Array(layers + 1);
    if (alphas === undefined) this.alphas.fill(1 / (layers + 1));
    else {
      assert(
        alphas.length === layers + 1,
        () => `propagation: ${alphas.length} layer weights for ${layers} layers; give layers + 1`,
      );
      for (let k = 0; k <= layers; k++) this.alphas[k] = alphas[k];
    }
    this.wasm = layers > 0 && (o.kernel ?? "auto") === "auto" ? WasmSpmm.create(graph, dim, 3) : null;
    this.kernel = this.wasm === null ? "js" : "wasm";
    const n = layers > 0 && this.wasm === null ? graph.nNodes * dim : 0;
    this.a = new Float32Array(n);
    this.b = new Float32Array(layers > 1 ? n : 0);
  }

  /** out = Σ_k α_k Â^k x (x and out are nNodes × dim; x is not modified; out ≠ x). */
  runInto(x: Float32Array, out: Float32Array): void {
    const { nNodes, offsets, indices, values } = this.graph;
    const d = this.dim;
    const n = nNodes * d;
    const a0 = this.alphas[0];
    for (let t = 0; t < n; t++) out[t] = a0 * x[t];
    const w = this.wasm;
    if (w !== null) {
      // buffers[0] = x, then ping-pong between 1 and 2
      w.buffers[0].set(x.subarray(0, n));
      let cur = 0;
      for (let k = 1; k <= this.layers; k++) {
        const next = k % 2 === 1 ? 1 : 2;
        w.spmm(cur, next, 0, nNodes);
        axpyRows(this.alphas[k], w.buffers[next], out, d, 0, nNodes);
        cur = next;
      }
      return;
    }
    let cur = x;
    for (let k = 1; k <= this.layers; k++) {
      const next = k % 2 === 1 ? this.a : this.b;
      spmmRowsInto(offsets, indices, values, cur, d, next, 0, nNodes);
      axpyRows(this.alphas[k], next, out, d, 0, nNodes);
      cur = next;
    }
  }
}
