/**
 * Slow dense oracle for `similarity.ts` (tests only): every formula written out over full
 * context × entity arrays, straight from the definitions (Schelter et al. RecSys'12), with no
 * sparse algebra. O(nCtx · nEntities²).
 */
import { IdMap } from "../data/id-map.ts";
import { Rng } from "../math/rng.ts";
import type { Dataset, Interactions } from "../types.ts";
import type { SimilaritySpec } from "./similarity.ts";

export interface DenseInput {
  readonly nCtx: number;
  readonly nEnt: number;
  /** present[c*nEnt + x] = 1 when (c, x) is stored. */
  readonly present: Uint8Array;
  /** Stored values (ignored where absent); null = implicit 1. */
  readonly values: Float64Array | null;
  /** Stored times; null = none. */
  readonly ts: Float64Array | null;
}

/** Dense S (nEnt × nEnt): 0 where a pair never co-occurs, is the diagonal, or scores ≤ 0; then pruned and row-normalised. */
export function denseSimilarity(d: DenseInput, spec: SimilaritySpec): Float64Array {
  const { nCtx, nEnt, present } = d;
  const at = (c: number, x: number) => c * nEnt + x;
  // Context weights from context sizes.
  const w = new Float64Array(nCtx).fill(1);
  for (let c = 0; c < nCtx; c++) {
    let n = 0;
    for (let x = 0; x < nEnt; x++) n += present[at(c, x)];
    if (spec.contextWeight === "inverse") w[c] = n === 0 ? 0 : n ** -spec.contextWeightPower;
    if (spec.contextWeight === "log") w[c] = n === 0 ? 0 : (1 / Math.log(1 + n)) ** spec.contextWeightPower;
  }
  // Preprocessed dense vectors v[c][x] (0 where absent).
  const implicit = d.values === null || spec.measure === "jaccard";
  const v = new Float64Array(nCtx * nEnt);
  for (let i = 0; i < v.length; i++) if (present[i]) v[i] = implicit ? 1 : (d.values as Float64Array)[i];
  const centreAll = spec.measure === "pearson" && implicit;
  if (spec.measure === "pearson" && !implicit) {
    for (let x = 0; x < nEnt; x++) {
      let s = 0;
      let n = 0;
      for (let c = 0; c < nCtx; c++) {
        if (present[at(c, x)]) {
          s += v[at(c, x)];
          n++;
        }
      }
      for (let c = 0; c < nCtx; c++) if (present[at(c, x)]) v[at(c, x)] -= s / n;
    }
  }
  let W = 0;
  for (let c = 0; c < nCtx; c++) W += w[c];
  const mu = new Float64Array(nEnt);
  if (centreAll) {
    for (let x = 0; x < nEnt; x++) {
      let s = 0;
      for (let c = 0; c < nCtx; c++) s += w[c] * v[at(c, x)];
      mu[x] = s / W;
    }
  }
  const wn = (c: number) => (spec.weightNorms || centreAll ? w[c] : 1);
  const norm = new Float64Array(nEnt);
  for (let x = 0; x < nEnt; x++) {
    let s = 0;
    for (let c = 0; c < nCtx; c++) {
      if (centreAll) s += wn(c) * (v[at(c, x)] - mu[x]) ** 2;
      else if (present[at(c, x)]) s += wn(c) * v[at(c, x)] ** 2;
    }
    norm[x] = s;
  }
  const lam = spec.pairHalfLifeSec > 0 && d.ts !== null ? Math.LN2 / spec.pairHalfLifeSec : 0;
  const S = new Float64Array(nEnt * nEnt);
  for (let x = 0; x < nEnt; x++) {
    for (let j = 0; j < nEnt; j++) {
      if (j === x) continue;
      let co = false;
      let dot = 0;
      for (let c = 0; c < nCtx; c++) {
        if (!present[at(c, x)] || !present[at(c, j)]) continue;
        co = true;
        const f =
          lam > 0
            ? Math.exp(-lam * Math.abs((d.ts as Float64Array)[at(c, x)] - (d.ts as Float64Array)[at(c, j)]))
            : 1;
        dot += w[c] * v[at(c, x)] * v[at(c, j)] * f;
      }
      if (!co) continue;
      if (centreAll) {
        // Σ_c w_c (v_cx − μ_x)(v_cj − μ_j) over all contexts, with the decay on the stored co-occurrences.
        let cov = 0;
        for (let c = 0; c < nCtx; c++) cov += w[c] * (v[at(c, x)] - mu[x]) * (v[at(c, j)] - mu[j]);
        let plain = 0;
        for (let c = 0; c < nCtx; c++)
          if (present[at(c, x)] && present[at(c, j)]) plain += w[c] * v[at(c, x)] * v[at(c, j)];
        dot = cov + (dot - plain);
      }
      let s: number;
      switch (spec.measure) {
        case "cooccurrence":
          s = dot;
          break;
        case "cosine":
        case "pearson":
          s = dot / (norm[x] ** spec.alpha * norm[j] ** spec.beta + spec.shrink);
          break;
        case "euclidean":
          s = 1 / (1 + Math.sqrt(Math.max(0, norm[x] + norm[j] - 2 * dot)));
          break;
        case "jaccard":
          s = dot / (norm[x] + norm[j] - dot + spec.shrink);
          break;
      }
      S[x * nEnt + j] = s > 0 && Number.isFinite(s) ? s : 0;
    }
  }
  if (spec.neighbors > 0) {
    for (let x = 0; x < nEnt; x++) {
      const order = Array.from({ length: nEnt }, (_, j) => j)
        .filter((j) => S[x * nEnt + j] > 0)
        .sort((a, b) => S[x * nEnt + b] - S[x * nEnt + a] || a - b);
      for (const j of order.slice(spec.neighbors)) S[x * nEnt + j] = 0;
    }
  }
  if (spec.rowNormalize !== "none") {
    for (let x = 0; x < nEnt; x++) {
      let dd = 0;
      for (let j = 0; j < nEnt; j++)
        dd = spec.rowNormalize === "max" ? Math.max(dd, S[x * nEnt + j]) : dd + S[x * nEnt + j];
      if (dd > 0) for (let j = 0; j < nEnt; j++) S[x * nEnt + j] /= dd;
    }
  }
  return S;
}

// Test fixtures (generators, DESIGN: fixtures are (seed, size) generators).

/** A random log: each of nUsers users takes each item with probability p; ratings 1..5, times 0..9999. */
export function randomLog(
  seed: number,
  nUsers: number,
  nItems: number,
  p: number,
  userFrom = 0,
): Interactions {
  const rng = new Rng(seed);
  const users: number[] = [];
  const items: number[] = [];
  const ts: number[] = [];
  const w: number[] = [];
  for (let u = userFrom; u < userFrom + nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      if (rng.next() >= p) continue;
      users.push(u);
      items.push(i);
      ts.push(rng.int(10_000));
      w.push(1 + rng.int(5));
    }
  }
  return logOf(users, items, ts, w);
}

export function logOf(
  users: number[],
  items: number[],
  ts: number[] | null = null,
  w: number[] | null = null,
): Interactions {
  return {
    length: users.length,
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    weights: w === null ? null : Float32Array.from(w),
    ts: ts === null ? null : Float64Array.from(ts),
    events: null,
    eventNames: [],
    sessions: null,
  };
}

export function concatLogs(a: Interactions, b: Interactions): Interactions {
  const cat = <T extends Int32Array | Float32Array | Float64Array>(
    x: T | null,
    y: T | null,
    n: number,
    m: number,
  ): number[] | null =>
    x === null && y === null ? null : [...(x ?? new Array(n).fill(1)), ...(y ?? new Array(m).fill(1))];
  return logOf(
    [...a.users, ...b.users],
    [...a.items, ...b.items],
    cat(a.ts, b.ts, a.length, b.length),
    cat(a.weights, b.weights, a.length, b.length),
  );
}

export function datasetOf(log: Interactions, nUsers: number, nItems: number): Dataset {
  return {
    name: "random",
    users: IdMap.from(Array.from({ length: nUsers }, (_, i) => `u${i}`)),
    items: IdMap.from(Array.from({ length: nItems }, (_, i) => `i${i}`)),
    train: log,
    test: null,
    itemAttributes: new Map(),
    userAttributes: new Map(),
    itemStats: null,
  };
}
