/**
 * Layer-wise sampled computation graphs for mini-batch GCN training (Code 5-8; GraphSAGE Alg. 2):
 * S_K = the batch's distinct target nodes; S_{k−1} = S_k ∪ N(S_k) for k = K..1, where N(u) is
 * u's neighbourhood: PinSage's fixed importance top-T (`fixedNeighbors`) or GraphSAGE's uniform
 * sample of m neighbours (`uniformNeighbors`). S_k is a prefix of S_{k−1} (same order), so a
 * node's own previous-layer state h_u^(k−1) sits at its index in S_k. Layer k's edges map each
 * u ∈ S_k to local indices into S_{k−1} with weights α_uv (normalised to sum 1 per row).
 */
import type { Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";

/** How a built-in sampler was made, so a worker thread can rebuild it over shared arrays. */
export type NeighborSamplerSpec =
  | { readonly kind: "fixed"; readonly csr: Csr }
  | { readonly kind: "uniform"; readonly csr: Csr; readonly m: number };

/** Neighbour choice for one node: writes up to `max` (neighbour, weight) pairs, returns the count. */
export interface NeighborSampler {
  readonly max: number;
  /** True when the choice draws random numbers (uniform sampling). */
  readonly random: boolean;
  /** Set by `fixedNeighbors` / `uniformNeighbors` (a custom sampler has none: it samples in-thread). */
  readonly spec?: NeighborSamplerSpec;
  sampleInto(v: number, rng: Rng, ids: Int32Array, weights: Float32Array): number;
}

/** Rebuilds a sampler from its spec (worker threads). */
export function samplerFromSpec(s: NeighborSamplerSpec): NeighborSampler {
  return s.kind === "fixed" ? fixedNeighbors(s.csr) : uniformNeighbors(s.csr, s.m);
}

/**
 * Where a mini-batch's subgraph can come from besides inline sampling: a producer that sampled it
 * ahead (train/subgraph-sampler.ts). `take` returns the subgraph planned under `key` for exactly
 * targets[0..n), or null when none was planned (the caller then samples inline).
 */
export interface SubgraphSource {
  take(key: string, targets: Int32Array, n: number): Subgraph | null;
  /**
   * The step's joint subgraph: its targets are the users' targets[0..n) followed by the step's
   * item targets (the caller checks those when the item side arrives); null when none was planned.
   */
  takeJoint?(users: Int32Array, n: number): Subgraph | null;
}

/** A fixed weighted neighbourhood per node (PinSage's importance top-T, or all graph neighbours). */
export function fixedNeighbors(nbr: Csr): NeighborSampler {
  let max = 0;
  for (let v = 0; v < nbr.nRows; v++) max = Math.max(max, nbr.offsets[v + 1] - nbr.offsets[v]);
  const vals = nbr.values;
  return {
    max,
    random: false,
    spec: { kind: "fixed", csr: nbr },
    sampleInto(v, _rng, ids, weights) {
      const a = nbr.offsets[v];
      const n = nbr.offsets[v + 1] - a;
      for (let k = 0; k < n; k++) {
        ids[k] = nbr.indices[a + k];
        weights[k] = vals === null ? 1 : vals[a + k];
      }
      return n;
    },
  };
}

/** GraphSAGE: `m` neighbours drawn uniformly with replacement (all of them, once each, when degree ≤ m). */
export function uniformNeighbors(adj: Csr, m: number): NeighborSampler {
  return {
    max: m,
    random: true,
    spec: { kind: "uniform", csr: adj, m },
    sampleInto(v, rng, ids, weights) {
      const a = adj.offsets[v];
      const deg = adj.offsets[v + 1] - a;
      if (deg <= m) {
        for (let k = 0; k < deg; k++) {
          ids[k] = adj.indices[a + k];
          weights[k] = 1;
        }
        return deg;
      }
      for (let k = 0; k < m; k++) {
        ids[k] = adj.indices[a + Math.floor(rng.next() * deg)];
        weights[k] = 1;
      }
      return m;
    },
  };
}

/**
 * Edge weights of rows 0..N of `nb` normalised to sum 1 per row (`values`, or 1 per edge when
 * null): the aggregation weights of fixed neighbourhoods (importance counts, full-graph inference).
 */
export function rowNormalizedWeights(nb: Csr, N: number): Float32Array {
  const weights = new Float32Array(nb.indices.length);
  for (let v = 0; v < N; v++) {
    let s = 0;
    for (let e = nb.offsets[v]; e < nb.offsets[v + 1]; e++) s += nb.values === null ? 1 : nb.values[e];
    for (let e = nb.offsets[v]; e < nb.offsets[v + 1]; e++)
      weights[e] = s > 0 ? (nb.values === null ? 1 : nb.values[e]) / s : 0;
  }
  return weights;
}

export interface LayerEdges {
  /** Row u of S_k: edges [offsets[u], offsets[u+1]) into S_{k−1} local indices. */
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  /** α_uv, each row summing to 1 (rows without neighbours are empty). */
  readonly weights: Float32Array;
}

export interface Subgraph {
  /** layers[k] = global ids of S_k, k = 0..K; layers[K] = distinct targets; layers[k] is a prefix of layers[k−1]. */
  readonly layers: Int32Array[];
  /** edges[k] (k = 1..K) builds S_k from S_{k−1}; edges[0] is empty. */
  readonly edges: LayerEdges[];
  /** Index in S_K of each target, in input order. */
  readonly targetIndex: Int32Array;
}

/** Reusable scratch for `sampleSubgraph` over a graph of nNodes nodes. */
export class SubgraphScratch {
  readonly local: Int32Array;
  ids: Int32Array;
  weights: Float32Array;
  constructor(nNodes: number, maxNeighbors: number) {
    this.local = new Int32Array(nNodes).fill(-1);
    this.ids = new Int32Array(Math.max(1, maxNeighbors));
    this.weights = new Float32Array(Math.max(1, maxNeighbors));
  }
}

/** A growable Int32Array / Float32Array pair of lists (sampling without number[] pushes). */
class Grow {
  i = new Int32Array(1024);
  w = new Float32Array(1024);
  n = 0;
  push(v: number, w: number): void {
    if (this.n === this.i.length) {
      const i2 = new Int32Array(this.n * 2);
      i2.set(this.i);
      this.i = i2;
      const w2 = new Float32Array(this.n * 2);
      w2.set(this.w);
      this.w = w2;
    }
    this.i[this.n] = v;
    this.w[this.n++] = w;
  }
}

/** Samples the K-layer computation graph of `targets[0..n)` (Code 5-8). Allocates the result. */
export function sampleSubgraph(
  targets: Int32Array,
  n: number,
  K: number,
  sampler: NeighborSampler,
  rng: Rng,
  scratch: SubgraphScratch,
): Subgraph {
  const local = scratch.local;
  const top = new Grow();
  const targetIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = targets[i];
    if (local[v] < 0) {
      local[v] = top.n;
      top.push(v, 0);
    }
    targetIndex[i] = local[v];
  }
  for (let r = 0; r < top.n; r++) local[top.i[r]] = -1;
  const layers: Int32Array[] = new Array(K + 1);
  const edges: LayerEdges[] = new Array(K + 1);
  layers[K] = top.i.slice(0, top.n);
  edges[0] = { offsets: new Int32Array(1), indices: new Int32Array(0), weights: new Float32Array(0) };
  const ids = scratch.ids;
  const ws = scratch.weights;
  for (let k = K; k >= 1; k--) {
    const rows = layers[k];
    const next = new Grow();
    for (let r = 0; r < rows.length; r++) {
      local[rows[r]] = r;
      next.push(rows[r], 0);
    }
    const offsets = new Int32Array(rows.length + 1);
    const e = new Grow();
    for (let r = 0; r < rows.length; r++) {
      const m = sampler.sampleInto(rows[r], rng, ids, ws);
      let sum = 0;
      for (let t = 0; t < m; t++) sum += ws[t];
      for (let t = 0; t < m; t++) {
        const v = ids[t];
        if (local[v] < 0) {
          local[v] = next.n;
          next.push(v, 0);
        }
        e.push(local[v], sum > 0 ? ws[t] / sum : 0);
      }
      offsets[r + 1] = e.n;
    }
    for (let r = 0; r < next.n; r++) local[next.i[r]] = -1;
    layers[k - 1] = next.i.slice(0, next.n);
    edges[k] = { offsets, indices: e.i.slice(0, e.n), weights: e.w.slice(0, e.n) };
  }
  return { layers, edges, targetIndex };
}
