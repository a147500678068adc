/**
 * User–item bipartite graph as one symmetric CSR over N = nUsers + nItems nodes (users are nodes
 * 0..nUsers−1, item i is node nUsers + i): the adjacency A = [[0, R], [Rᵀ, 0]] of LightGCN
 * (He et al. SIGIR'20, eq. 7) and of PinSage's walks (spec §5.6.2). Duplicate interactions are
 * merged (binary), both directions are stored, and `values` holds the symmetric normalisation
 * Â = D^-1/2 A D^-1/2, i.e. Â_uv = 1 / √(d_u d_v). Â is symmetric, so the transpose propagation
 * (the backward pass of a propagation) is the same matrix.
 */
import { assert } from "../errors.ts";
import { buildCsr, type Csr } from "../math/csr.ts";
import type { Interactions } from "../types.ts";

export interface BipartiteGraph extends Csr {
  readonly nUsers: number;
  readonly nItems: number;
  /** nUsers + nItems. */
  readonly nNodes: number;
  /** Node degrees (distinct neighbours). */
  readonly degrees: Int32Array;
  /** Â_uv = 1/√(d_u d_v) per stored edge (same layout as `indices`). */
  readonly values: Float32Array;
}

/** Node id of item i in a bipartite graph. */
export function itemNode(g: { readonly nUsers: number }, item: number): number {
  return g.nUsers + item;
}

/**
 * Builds the bipartite graph from interactions (the data layer's `train`). Allocates.
 * @example const g = buildBipartiteGraph(data.train, data.users.size, data.items.size);
 */
export function buildBipartiteGraph(x: Interactions, nUsers: number, nItems: number): BipartiteGraph {
  const n = x.length;
  const rows = new Int32Array(2 * n);
  const cols = new Int32Array(2 * n);
  for (let e = 0; e < n; e++) {
    const u = x.users[e];
    const i = x.items[e];
    assert(
      u >= 0 && u < nUsers && i >= 0 && i < nItems,
      () =>
        `buildBipartiteGraph: interaction ${e} (user ${u}, item ${i}) is outside ${nUsers} users × ${nItems} items`,
    );
    rows[e] = u;
    cols[e] = nUsers + i;
    rows[n + e] = nUsers + i;
    cols[n + e] = u;
  }
  const N = nUsers + nItems;
  const a = buildCsr(N, N, rows, cols, null, "one");
  const degrees = new Int32Array(N);
  for (let v = 0; v < N; v++) degrees[v] = a.offsets[v + 1] - a.offsets[v];
  const values = symmetricNormalizedValues(a.offsets, a.indices, degrees);
  return { ...a, values, nUsers, nItems, nNodes: N, degrees };
}

/** Â_uv = 1/√(d_u d_v) for every stored edge of a CSR (degrees d from the row lengths). Allocates. */
export function symmetricNormalizedValues(
  offsets: Int32Array,
  indices: Int32Array,
  degrees: Int32Array,
): Float32Array {
  const N = degrees.length;
  const inv = new Float64Array(N);
  for (let v = 0; v < N; v++) inv[v] = degrees[v] > 0 ? 1 / Math.sqrt(degrees[v]) : 0;
  const values = new Float32Array(indices.length);
  for (let r = 0; r < N; r++)
    for (let e = offsets[r]; e < offsets[r + 1]; e++) values[e] = inv[r] * inv[indices[e]];
  return values;
}
