/**
 * The PinSage / GraphSAGE convolution (Code 5-7; GraphSAGE eq. 5-33 with a mean aggregator), K
 * layers over a layer-wise computation graph (graph/subgraph.ts):
 *   m_v = ReLU(Q h_v^(k−1) + q)                      for every v ∈ S_(k−1)   (computed once, shared)
 *   n_u = Σ_v α_uv m_v                                (α: importance weights or 1/|N(u)|, Σ_v α_uv = 1)
 *   z_u = ReLU(W [n_u; h_u^(k−1)] + w)
 *   h_u^(k) = z_u / ‖z_u‖₂                            for every u ∈ S_k
 * GraphSAGE's W_k·mean(N(u)) + B_k·h_u is the same W acting on the concatenation, with Q the
 * identity-like per-neighbour transform; both use this code (PinSage weights, SAGE uniform ones).
 * Backward is written by hand and checked against finite differences (graph-conv.test.ts).
 * Full-graph inference (Code 5-10..5-12) is the same pass with S_k = all nodes for every k.
 */
import { assert } from "../errors.ts";
import type { Rng } from "../math/rng.ts";
import { DenseLayer } from "./graph-dense.ts";
import type { SparseOptimizer } from "./types.ts";

export interface ConvGraph {
  /** sizes[k] = |S_k|, k = 0..K; S_k is a prefix of S_(k−1). */
  readonly sizes: ArrayLike<number>;
  /** edges[k], k = 1..K: row u of S_k → local indices into S_(k−1), weights α_uv. */
  readonly edges: readonly {
    readonly offsets: Int32Array;
    readonly indices: Int32Array;
    readonly weights: Float32Array;
  }[];
}

/** What one forward pass keeps for its backward. */
export interface ConvPass {
  readonly graph: ConvGraph;
  /** H[k]: |S_k| × dim states, H[0] the input features. */
  readonly H: Float32Array[];
  readonly M: Float32Array[];
  readonly C: Float32Array[];
  readonly Z: Float32Array[];
  readonly norms: Float32Array[];
}

/**
 * Reusable arrays for one forward/backward pair (training reuses them step after step instead of
 * allocating ~|S_0|·(dim + hidden) floats per layer per step). A pass made with buffers is valid
 * until the next forward with the same buffers; full-graph inference passes none (fresh arrays).
 */
export class ConvBuffers {
  private readonly bufs = new Map<string, Float32Array>();

  /** A view of `len` floats under `key` (contents unspecified unless `zero`). */
  take(key: string, len: number, zero = false): Float32Array {
    let b = this.bufs.get(key);
    if (b === undefined || b.length < len) {
      b = new Float32Array(Math.ceil(len * 1.25));
      this.bufs.set(key, b);
      return b.subarray(0, len);
    }
    const v = b.subarray(0, len);
    if (zero) v.fill(0);
    return v;
  }
}

function alloc(buf: ConvBuffers | undefined, key: string, len: number, zero = false): Float32Array {
  return buf === undefined ? new Float32Array(len) : buf.take(key, len, zero);
}

export class GraphConv {
  readonly Q: DenseLayer[] = [];
  readonly W: DenseLayer[] = [];

  constructor(
    readonly dim: number,
    readonly hidden: number,
    readonly layers: number,
    rng: Rng,
  ) {
    for (let k = 0; k < layers; k++) {
      this.Q.push(new DenseLayer(dim, hidden, true, rng));
      this.W.push(new DenseLayer(hidden + dim, dim, true, rng));
    }
  }

  bind(opt: SparseOptimizer): void {
    for (const l of [...this.Q, ...this.W]) l.bind(opt);
  }

  step(): void {
    for (const l of [...this.Q, ...this.W]) l.step();
  }

  parameters(): Float32Array[] {
    return [...this.Q, ...this.W].flatMap((l) => l.parameters());
  }

  /**
   * Runs the K layers from H0 (|S_0| × dim); the result is pass.H[K] (|S_K| × dim). With `buf`
   * the pass's arrays are views of those buffers (see ConvBuffers).
   */
  forward(g: ConvGraph, H0: Float32Array, buf?: ConvBuffers): ConvPass {
    const d = this.dim;
    const dh = this.hidden;
    const pass: ConvPass = { graph: g, H: [H0], M: [], C: [], Z: [], norms: [] };
    for (let k = 1; k <= this.layers; k++) {
      const nPrev = g.sizes[k - 1];
      const n = g.sizes[k];
      const prev = pass.H[k - 1];
      const M = alloc(buf, `M${k}`, nPrev * dh);
      this.Q[k - 1].forwardInto(prev, nPrev, M);
      const C = alloc(buf, `C${k}`, n * (dh + d));
      const e = g.edges[k];
      const w = dh + d;
      for (let u = 0; u < n; u++) {
        const o = u * w;
        // n_u = Σ α_uv m_v
        C.fill(0, o, o + dh);
        for (let t = e.offsets[u]; t < e.offsets[u + 1]; t++) {
          const a = e.weights[t];
          const s = e.indices[t] * dh;
          for (let j = 0; j < dh; j++) C[o + j] += a * M[s + j];
        }
        for (let j = 0; j < d; j++) C[o + dh + j] = prev[u * d + j];
      }
      const Z = alloc(buf, `Z${k}`, n * d);
      this.W[k - 1].forwardInto(C, n, Z);
      const H = alloc(buf, `H${k}`, n * d, true);
      const norms = alloc(buf, `n${k}`, n);
      for (let u = 0; u < n; u++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += Z[u * d + j] * Z[u * d + j];
        const nr = Math.sqrt(s);
        norms[u] = nr;
        if (nr > 0) for (let j = 0; j < d; j++) H[u * d + j] = Z[u * d + j] / nr;
      }
      pass.M.push(M);
      pass.C.push(C);
      pass.Z.push(Z);
      pass.norms.push(norms);
      pass.H.push(H);
    }
    return pass;
  }

  /**
   * Backward from dH_K (|S_K| × dim, consumed): accumulates the dense layers' gradients and
   * returns dH_0 (|S_0| × dim), the gradient of the input features.
   */
  backward(pass: ConvPass, dHK: Float32Array, buf?: ConvBuffers): Float32Array {
    const d = this.dim;
    const dh = this.hidden;
    const g = pass.graph;
    let dH = dHK;
    for (let k = this.layers; k >= 1; k--) {
      const nPrev = g.sizes[k - 1];
      const n = g.sizes[k];
      const H = pass.H[k];
      const norms = pass.norms[k - 1];
      // h = z/‖z‖ ⇒ dz = (dh − h (h·dh)) / ‖z‖
      const dZ = alloc(buf, `dZ${k}`, n * d, true);
      for (let u = 0; u < n; u++) {
        const nr = norms[u];
        if (nr === 0) continue;
        let hd = 0;
        for (let j = 0; j < d; j++) hd += H[u * d + j] * dH[u * d + j];
        for (let j = 0; j < d; j++) dZ[u * d + j] = (dH[u * d + j] - H[u * d + j] * hd) / nr;
      }
      const w = dh + d;
      const dC = alloc(buf, `dC${k}`, n * w);
      this.W[k - 1].backward(pass.C[k - 1], pass.Z[k - 1], dZ, n, dC, false);
      const dPrev = alloc(buf, `dH${k - 1}`, nPrev * d, true);
      const dM = alloc(buf, `dM${k}`, nPrev * dh, true);
      const e = g.edges[k];
      for (let u = 0; u < n; u++) {
        const o = u * w;
        for (let j = 0; j < d; j++) dPrev[u * d + j] = dC[o + dh + j];
        for (let t = e.offsets[u]; t < e.offsets[u + 1]; t++) {
          const a = e.weights[t];
          const s = e.indices[t] * dh;
          for (let j = 0; j < dh; j++) dM[s + j] += a * dC[o + j];
        }
      }
      this.Q[k - 1].backward(pass.H[k - 1], pass.M[k - 1], dM, nPrev, dPrev, true);
      dH = dPrev;
    }
    return dH;
  }
}

/** The validated shape of a convolution stack (PinSage / GraphSAGE, MultiBiSage). */
export function convShape(
  o: {
    readonly dim?: number;
    readonly hidden?: number;
    readonly layers?: number;
    readonly neighbors?: "importance" | "uniform";
  },
  who: string,
): { dim: number; hidden: number; layers: number; kind: "importance" | "uniform" } {
  const dim = o.dim ?? 64;
  const layers = o.layers ?? 2;
  const kind = o.neighbors ?? "importance";
  assert(Number.isInteger(dim) && dim >= 1, () => `${who}: dim must be an integer ≥ 1, got ${dim}`);
  assert(Number.isInteger(layers) && layers >= 1, () => `${who}: layers must be ≥ 1, got ${layers}`);
  assert(
    kind === "importance" || kind === "uniform",
    () => `${who}: neighbors must be "importance" or "uniform", got "${kind}"`,
  );
  return { dim, hidden: o.hidden ?? dim, layers, kind };
}
