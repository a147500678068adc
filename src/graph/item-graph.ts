/**
 * Directed weighted item graph from consecutive interactions (EGES, spec §5.3.3, fig. 5-3):
 * an edge i → j for every "i then j" in a sequence, weight M_ij = number of such transitions.
 * CSR over source nodes (`offsets`/`indices`/`weights`), with one alias table per node over its
 * out-edges stored flat (`cut`, `alias` indexed like `indices`), so a walk step
 * P(j | i) = M_ij / Σ_j' M_ij' is an O(1) draw.
 */
import type { Rng } from "../math/rng.ts";

export interface ItemGraph {
  readonly nNodes: number;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  readonly weights: Float32Array;
  /** Per-edge alias data: keep edge e with probability cut[e], else take edge offsets[i] + alias[e]. */
  readonly cut: Float64Array;
  readonly alias: Int32Array;
}

export interface ItemGraphOptions {
  /** Count i → i transitions (repeat clicks). Default false. */
  readonly selfLoops?: boolean;
}

/** Builds the graph from sequences (CSR rows, in order). Allocates. */
export function buildItemGraph(
  seqs: { readonly offsets: Int32Array; readonly items: Int32Array },
  nNodes: number,
  o: ItemGraphOptions = {},
): ItemGraph {
  const self = o.selfLoops ?? false;
  const nSeq = seqs.offsets.length - 1;
  // counting sort of transitions by source, then merge duplicates per row
  const deg = new Int32Array(nNodes + 1);
  for (let s = 0; s < nSeq; s++)
    for (let e = seqs.offsets[s] + 1; e < seqs.offsets[s + 1]; e++) {
      const a = seqs.items[e - 1];
      if (self || a !== seqs.items[e]) deg[a + 1]++;
    }
  for (let i = 0; i < nNodes; i++) deg[i + 1] += deg[i];
  const pos = deg.slice(0, nNodes);
  const dst = new Int32Array(deg[nNodes]);
  for (let s = 0; s < nSeq; s++)
    for (let e = seqs.offsets[s] + 1; e < seqs.offsets[s + 1]; e++) {
      const a = seqs.items[e - 1];
      const b = seqs.items[e];
      if (self || a !== b) dst[pos[a]++] = b;
    }
  const offsets = new Int32Array(nNodes + 1);
  const indices = new Int32Array(dst.length);
  const weights = new Float32Array(dst.length);
  let n = 0;
  for (let i = 0; i < nNodes; i++) {
    const row = dst.subarray(deg[i], deg[i + 1]).sort();
    for (let k = 0; k < row.length; k++) {
      if (k > 0 && row[k] === row[k - 1]) weights[n - 1]++;
      else {
        indices[n] = row[k];
        weights[n++] = 1;
      }
    }
    offsets[i + 1] = n;
  }
  const idx = indices.slice(0, n);
  const w = weights.slice(0, n);
  const cut = new Float64Array(n);
  const alias = new Int32Array(n);
  const small = new Int32Array(n);
  const large = new Int32Array(n);
  for (let i = 0; i < nNodes; i++) buildAliasRow(w, offsets[i], offsets[i + 1], cut, alias, small, large);
  return { nNodes, offsets, indices: idx, weights: w, cut, alias };
}

/** Vose's alias method over w[a..b) into cut/alias[a..b) (alias holds row-local indices). */
function buildAliasRow(
  w: Float32Array,
  a: number,
  b: number,
  cut: Float64Array,
  alias: Int32Array,
  small: Int32Array,
  large: Int32Array,
): void {
  const m = b - a;
  if (m === 0) return;
  let total = 0;
  for (let e = a; e < b; e++) total += w[e];
  let ns = 0;
  let nl = 0;
  for (let k = 0; k < m; k++) {
    cut[a + k] = (w[a + k] / total) * m;
    alias[a + k] = k;
    if (cut[a + k] < 1) small[a + ns++] = k;
    else large[a + nl++] = k;
  }
  while (ns > 0 && nl > 0) {
    const s = small[a + --ns];
    const l = large[a + --nl];
    alias[a + s] = l;
    cut[a + l] += cut[a + s] - 1;
    if (cut[a + l] < 1) small[a + ns++] = l;
    else large[a + nl++] = l;
  }
  while (nl > 0) cut[a + large[a + --nl]] = 1;
  while (ns > 0) cut[a + small[a + --ns]] = 1;
}

/** One weighted step from node i (must have out-edges): P(j | i) = M_ij / Σ M_i·. */
export function stepFrom(g: ItemGraph, i: number, rng: Rng): number {
  const a = g.offsets[i];
  const m = g.offsets[i + 1] - a;
  const u = rng.next() * m;
  const k = Math.floor(u);
  const e = a + k;
  return g.indices[u - k < g.cut[e] ? e : a + g.alias[e]];
}

/** Exact transition probabilities of node i's out-edges (for tests and inspection). Allocates. */
export function transitionProbabilities(g: ItemGraph, i: number): Map<number, number> {
  let total = 0;
  for (let e = g.offsets[i]; e < g.offsets[i + 1]; e++) total += g.weights[e];
  const p = new Map<number, number>();
  for (let e = g.offsets[i]; e < g.offsets[i + 1]; e++) p.set(g.indices[e], g.weights[e] / total);
  return p;
}

export interface WalkOptions {
  /** Walks started from every node that has out-edges. Default 10. */
  readonly walksPerNode?: number;
  /** Max nodes per walk (a walk stops early at a node without out-edges). Default 10. */
  readonly walkLength?: number;
}

/**
 * Weighted random walks (DeepWalk-style, EGES fig. 5-3(c)): `walksPerNode` walks from each node
 * with out-edges, each step drawn by M_ij. Returns the walks as sequences. Allocates.
 */
export function randomWalks(
  g: ItemGraph,
  rng: Rng,
  o: WalkOptions = {},
): { offsets: Int32Array; items: Int32Array } {
  const per = o.walksPerNode ?? 10;
  const len = o.walkLength ?? 10;
  let starts = 0;
  for (let i = 0; i < g.nNodes; i++) if (g.offsets[i + 1] > g.offsets[i]) starts++;
  const items = new Int32Array(starts * per * len);
  const offsets = new Int32Array(starts * per + 1);
  let n = 0;
  let w = 0;
  for (let r = 0; r < per; r++)
    for (let i = 0; i < g.nNodes; i++) {
      if (g.offsets[i + 1] === g.offsets[i]) continue;
      let cur = i;
      items[n++] = cur;
      for (let step = 1; step < len && g.offsets[cur + 1] > g.offsets[cur]; step++) {
        cur = stepFrom(g, cur, rng);
        items[n++] = cur;
      }
      offsets[++w] = n;
    }
  return { offsets, items: items.slice(0, n) };
}
