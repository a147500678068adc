/**
 * The normalised user–item matrix R̃ = D_U^-1/2 R D_I^-1/2 (the user–item block of LightGCN's Â,
 * bipartite.ts) and its smoothest item signals: the leading eigenvectors of R̃ᵀR̃, found by
 * subspace iteration (math/eigen.ts) whose operator is two propagation steps, items → users →
 * items. Shared by the GF-CF graph filter (recall/graph-filter.ts) and the spectral start of ID
 * tables (encoders/spectral-init.ts).
 */
import { buildCsr, type Csr, transposeCsr } from "../math/csr.ts";
import { type EigenOptions, type Eigenpairs, topEigenpairs } from "../math/eigen.ts";
import type { Interactions } from "../types.ts";
import { spmmRowsInto } from "./spmm.ts";

type Weighted = Csr & { readonly values: Float32Array };

export interface NormalizedRatings {
  /** R̃, users × items. */
  readonly r: Weighted;
  /** R̃ᵀ, items × users. */
  readonly rt: Weighted;
  /** d_i^-1/2 per item (0 for an item no user has). */
  readonly invSqrtDeg: Float64Array;
}

/** R̃ from a binary users × items CSR (values ignored). */
export function normalizedRatings(r: Csr): NormalizedRatings {
  const nU = r.nRows;
  const di = new Float64Array(r.nCols);
  for (let e = 0; e < r.indices.length; e++) di[r.indices[e]]++;
  const invSqrt = (d: number) => (d > 0 ? 1 / Math.sqrt(d) : 0);
  const values = new Float32Array(r.indices.length);
  for (let u = 0; u < nU; u++) {
    const du = invSqrt(r.offsets[u + 1] - r.offsets[u]);
    for (let e = r.offsets[u]; e < r.offsets[u + 1]; e++) values[e] = du * invSqrt(di[r.indices[e]]);
  }
  const rn: Weighted = { ...r, values };
  return { r: rn, rt: transposeCsr(rn) as Weighted, invSqrtDeg: di.map(invSqrt) };
}

/** R̃ from an interaction log (duplicates count once). */
export function normalizedRatingsOf(log: Interactions, nUsers: number, nItems: number): NormalizedRatings {
  return normalizedRatings(buildCsr(nUsers, nItems, log.users, log.items, null, "one"));
}

/** The k leading eigenpairs of R̃ᵀR̃ (λ_1 = 1 on a connected graph); vectors are nItems × k. */
export function lowPassBasis(g: NormalizedRatings, k: number, o: EigenOptions = {}): Eigenpairs {
  const { r, rt } = g;
  let users = new Float32Array(0);
  return topEigenpairs(
    (x, cols) => {
      if (users.length !== r.nRows * cols) users = new Float32Array(r.nRows * cols);
      spmmRowsInto(r.offsets, r.indices, r.values, x, cols, users, 0, r.nRows);
      spmmRowsInto(rt.offsets, rt.indices, rt.values, users, cols, x, 0, rt.nRows);
    },
    r.nCols,
    k,
    o,
  );
}

/**
 * The ideal low-pass filter D^-1/2 V Vᵀ D^1/2 (V: nItems × k eigenvectors from `lowPassBasis`) as
 * two nItems × k factors: an item signal r scores (Σ_{i∈r} query_i) · item_jᵀ for item j, with
 * query = D^-1/2 V and item = D^1/2 V (zero rows for items no user has).
 */
export function lowPassFactors(
  g: NormalizedRatings,
  v: Float32Array,
  k: number,
): { query: Float32Array; item: Float32Array } {
  const nI = g.r.nCols;
  const query = new Float32Array(nI * k);
  const item = new Float32Array(nI * k);
  for (let i = 0; i < nI; i++) {
    const d = g.invSqrtDeg[i];
    const s = d > 0 ? 1 / d : 0;
    for (let j = 0; j < k; j++) {
      query[i * k + j] = d * v[i * k + j];
      item[i * k + j] = s * v[i * k + j];
    }
  }
  return { query, item };
}
