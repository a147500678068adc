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
  interactionEdgesInto(x, nUsers, nItems, rows, cols, "buildBipartiteGraph");
  return symmetricGraph(rows, cols, n, nUsers, nItems, nUsers + nItems);
}

/** Writes interaction e as the edge (user, nUsers + item) into rows[e], cols[e]; checks the ids. */
export function interactionEdgesInto(
  x: Interactions,
  nUsers: number,
  nItems: number,
  rows: Int32Array,
  cols: Int32Array,
  who: string,
): void {
  for (let e = 0; e < x.length; e++) {
    const u = x.users[e];
    const i = x.items[e];
    assert(
      u >= 0 && u < nUsers && i >= 0 && i < nItems,
      () => `${who}: interaction ${e} (user ${u}, item ${i}) is outside ${nUsers} users × ${nItems} items`,
    );
    rows[e] = u;
    cols[e] = nUsers + i;
  }
}

/**
 * The symmetric-normalised graph over `nNodes` nodes whose edges are rows/cols[0, m), mirrored
 * into [m, 2m) here (the arrays hold 2m entries).
 */
export function symmetricGraph(
  rows: Int32Array,
  cols: Int32Array,
  m: number,
  nUsers: number,
  nItems: number,
  nNodes: number,
): BipartiteGraph {
  for (let e = 0; e < m; e++) {
    rows[m + e] = cols[e];
    cols[m + e] = rows[e];
  }
  const a = buildCsr(nNodes, nNodes, rows, cols, null, "one");
  const degrees = new Int32Array(nNodes);
  for (let v = 0; v < nNodes; v++) degrees[v] = a.offsets[v + 1] - a.offsets[v];
  const values = symmetricNormalizedValues(a.offsets, a.indices, degrees);
  return { ...a, values, nUsers, nItems, nNodes, degrees };
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
