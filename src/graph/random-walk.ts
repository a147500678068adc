/**
 * Importance-based neighbourhoods (PinSage, Ying et al. KDD'18; spec §5.6.2): from every node,
 * random walks with restart — each step first returns to the start with probability `restart`,
 * then moves to a uniformly drawn neighbour — and the visit counts of the other nodes rank them.
 * The `topT` most visited are the node's neighbours in the convolution, their normalised counts
 * its aggregation weights α_uv; the ranking kept to `keep` places gives hard negatives from a
 * band of ranks (the paper's 3000–5000; here configurable).
 */
import { assert } from "../errors.ts";
import type { Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";

export interface WalkGraph {
  readonly nNodes: number;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
}

export interface ImportanceOptions {
  /** Walk steps per start node. Default 200. */
  readonly steps?: number;
  /** Restart probability per step. Default 0.5. */
  readonly restart?: number;
  /** Neighbours kept per node (most visited first). Default 10. */
  readonly topT?: number;
  /** Ranked visited nodes kept per node for hard negatives (≥ topT). Default topT. */
  readonly keep?: number;
  /** Count only nodes an even number of hops away (same side of a bipartite graph). Default false. */
  readonly sameSide?: boolean;
}

export interface Importance {
  /** N × ≤topT: neighbours by visits, descending; values = visits / Σ visits of the kept ones. */
  readonly neighbors: Csr & { readonly values: Float32Array };
  /** N × ≤keep: the visit ranking (values = raw visit counts), for rank-band hard negatives. */
  readonly ranking: Csr & { readonly values: Float32Array };
}

/** Visit counts of one walk with restart from s, into counts (touched ids into touched; returns how many). */
export function walkVisitsInto(
  g: WalkGraph,
  s: number,
  steps: number,
  restart: number,
  sameSide: boolean,
  rng: Rng,
  counts: Float64Array,
  touched: Int32Array,
): number {
  let nt = 0;
  let cur = s;
  let parity = 0;
  for (let t = 0; t < steps; t++) {
    if (rng.next() < restart) {
      cur = s;
      parity = 0;
    }
    const a = g.offsets[cur];
    const deg = g.offsets[cur + 1] - a;
    if (deg === 0) {
      cur = s;
      parity = 0;
      continue;
    }
    cur = g.indices[a + Math.floor(rng.next() * deg)];
    parity ^= 1;
    if (cur === s || (sameSide && parity === 1)) continue;
    if (counts[cur] === 0) touched[nt++] = cur;
    counts[cur]++;
  }
  return nt;
}

/** Importance neighbours and visit rankings of every node. Allocates. */
export function importanceNeighbors(g: WalkGraph, rng: Rng, o: ImportanceOptions = {}): Importance {
  const steps = o.steps ?? 200;
  const restart = o.restart ?? 0.5;
  const T = o.topT ?? 10;
  const keep = Math.max(o.keep ?? T, T);
  assert(restart > 0 && restart <= 1, () => `importanceNeighbors: restart must be in (0, 1], got ${restart}`);
  assert(Number.isInteger(T) && T >= 1, () => `importanceNeighbors: topT must be an integer ≥ 1, got ${T}`);
  const N = g.nNodes;
  const counts = new Float64Array(N);
  const touched = new Int32Array(N);
  const nOff = new Int32Array(N + 1);
  const rOff = new Int32Array(N + 1);
  let nIdx = new Int32Array(N * Math.min(T, 16));
  let nVal = new Float32Array(nIdx.length);
  let rIdx = new Int32Array(N * Math.min(keep, 16));
  let rVal = new Float32Array(rIdx.length);
  let nn = 0;
  let nr = 0;
  for (let s = 0; s < N; s++) {
    const nt = walkVisitsInto(g, s, steps, restart, o.sameSide ?? false, rng, counts, touched);
    const row = touched.subarray(0, nt).sort((p, q) => counts[q] - counts[p] || p - q);
    const kt = Math.min(T, nt);
    const kk = Math.min(keep, nt);
    if (nn + kt > nIdx.length) {
      const grow = Math.max(nIdx.length * 2, nn + kt);
      const i2 = new Int32Array(grow);
      i2.set(nIdx);
      nIdx = i2;
      const v2 = new Float32Array(grow);
      v2.set(nVal);
      nVal = v2;
    }
    if (nr + kk > rIdx.length) {
      const grow = Math.max(rIdx.length * 2, nr + kk);
      const i2 = new Int32Array(grow);
      i2.set(rIdx);
      rIdx = i2;
      const v2 = new Float32Array(grow);
      v2.set(rVal);
      rVal = v2;
    }
    let sum = 0;
    for (let k = 0; k < kt; k++) sum += counts[row[k]];
    for (let k = 0; k < kt; k++) {
      nIdx[nn] = row[k];
      nVal[nn++] = counts[row[k]] / sum;
    }
    for (let k = 0; k < kk; k++) {
      rIdx[nr] = row[k];
      rVal[nr++] = counts[row[k]];
    }
    nOff[s + 1] = nn;
    rOff[s + 1] = nr;
    for (let k = 0; k < nt; k++) counts[touched[k]] = 0;
  }
  return {
    neighbors: { nRows: N, nCols: N, offsets: nOff, indices: nIdx.slice(0, nn), values: nVal.slice(0, nn) },
    ranking: { nRows: N, nCols: N, offsets: rOff, indices: rIdx.slice(0, nr), values: rVal.slice(0, nr) },
  };
}
