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

/** Neighbour choice for one node: writes up to `max` (neighbour, weight) pairs, returns the count. */
export interface NeighborSampler {
  readonly max: number;
  /** True when the choice draws random numbers (uniform sampling). */
  readonly random: boolean;
  sampleInto(v: number, rng: Rng, ids: Int32Array, weights: Float32Array): number;
}

/** A fixed weighted neighbourhood per node (PinSage's importance top-T, or all graph neighbours). */
export function fixedNeighbors(nbr: Csr): NeighborSampler {
  let max = 0;
  for (let v = 0; v < nbr.nRows; v++) max = Math.max(max, nbr.offsets[v + 1] - nbr.offsets[v]);
  const vals = nbr.values;
  return {
    max,
    random: false,
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
  const top: number[] = [];
  const targetIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = targets[i];
    if (local[v] < 0) {
      local[v] = top.length;
      top.push(v);
    }
    targetIndex[i] = local[v];
  }
  for (const v of top) local[v] = -1;
  const layers: Int32Array[] = new Array(K + 1);
  const edges: LayerEdges[] = new Array(K + 1);
  layers[K] = Int32Array.from(top);
  edges[0] = { offsets: new Int32Array(1), indices: new Int32Array(0), weights: new Float32Array(0) };
  for (let k = K; k >= 1; k--) {
    const rows = layers[k];
    const next: number[] = Array.from(rows);
    for (let r = 0; r < rows.length; r++) local[rows[r]] = r;
    const offsets = new Int32Array(rows.length + 1);
    const idx: number[] = [];
    const w: number[] = [];
    for (let r = 0; r < rows.length; r++) {
      const m = sampler.sampleInto(rows[r], rng, scratch.ids, scratch.weights);
      let sum = 0;
      for (let e = 0; e < m; e++) sum += scratch.weights[e];
      for (let e = 0; e < m; e++) {
        const v = scratch.ids[e];
        if (local[v] < 0) {
          local[v] = next.length;
          next.push(v);
        }
        idx.push(local[v]);
        w.push(sum > 0 ? scratch.weights[e] / sum : 0);
      }
      offsets[r + 1] = idx.length;
    }
    for (const v of next) local[v] = -1;
    layers[k - 1] = Int32Array.from(next);
    edges[k] = { offsets, indices: Int32Array.from(idx), weights: Float32Array.from(w) };
  }
  return { layers, edges, targetIndex };
}
