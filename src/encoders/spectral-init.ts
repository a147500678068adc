/**
 * A spectral start for a user/item pair of ID tables: instead of random rows, both sides begin at
 * GF-CF's ideal low-pass factorisation (graph/spectral.ts) — item i at d_i^1/2 v_i and user u at
 * Σ_{i∈u} d_i^-1/2 v_i, with v_i row i of the `dim` leading eigenvectors of R̃ᵀR̃. That rank-dim
 * solution already ranks well (Gowalla, dim 256: Recall@20 0.173 as a plain inner product), so
 * training refines it instead of discovering the graph's smooth directions from noise.
 *
 * Every row is rescaled to the random start's expected norm, scale·√dim: a cosine model sees only
 * directions, and a row's step shrinks as 1/‖row‖, so the learning rate tuned from a random start
 * keeps its meaning. Rows without interactions keep their random start. The eigenvectors are
 * computed once per fit and shared by the tables.
 *
 * A third table serves a tower that pools a user's history (encoders/tower.ts): item i's history
 * row is d_i^-1/2 v_i, so that the pooled history points where the user row does. Its rows share
 * one scale (mean norm scale·√dim) instead of each being rescaled, which would change that
 * direction.
 */
import { lowPassBasis, lowPassFactors, normalizedRatingsOf } from "../graph/spectral.ts";
import type { Dataset } from "../types.ts";
import type { EncoderContext } from "./types.ts";

/** Overwrites rows of a freshly initialised nRows × dim table. */
export type TableStart = (ctx: EncoderContext, table: Float32Array, dim: number) => void;

export interface SpectralStartOptions {
  /** The random start's N(0, scale²) per coordinate: rows get norm scale·√dim. Default 0.1. */
  readonly scale?: number;
  /** Eigensolver iterations (math/eigen.ts). Default 10. */
  readonly iterations?: number;
  /** Eigensolver seed. Default 1. */
  readonly seed?: number;
  /**
   * Item rows share one scale instead of each being rescaled, so they keep d_i^1/2 — the
   * popularity a dot-product model reads from item norms (a cosine model ignores it). Default false.
   */
  readonly itemNorms?: boolean;
  /** The tables that will read this start (the shared computation is dropped once all have). Default query and item. */
  readonly sides?: readonly SpectralSide[];
}

export type SpectralSide = "query" | "item" | "history";

/** Spectral starts for the query (user), item and history tables of one model. */
export function spectralStart(o: SpectralStartOptions = {}): Record<SpectralSide, TableStart> {
  let cached: {
    data: Dataset;
    dim: number;
    k: number;
    query: Float32Array;
    item: Float32Array;
    history: Float32Array;
  } | null = null;
  const rows = (data: Dataset, dim: number) => {
    if (cached === null || cached.data !== data || cached.dim !== dim) {
      const nU = data.users.size;
      const g = normalizedRatingsOf(data.train, nU, data.items.size);
      const k = Math.min(dim, data.items.size);
      const v = lowPassBasis(g, k, { iterations: o.iterations ?? 10, seed: o.seed ?? 1 }).vectors;
      const { query, item } = lowPassFactors(g, v, k);
      // a user's row is her item signal's low-pass query: Σ_{i∈u} d_i^-1/2 v_i
      const users = new Float32Array(nU * k);
      for (let u = 0; u < nU; u++)
        for (let e = g.r.offsets[u]; e < g.r.offsets[u + 1]; e++) {
          const i = g.r.indices[e] * k;
          for (let j = 0; j < k; j++) users[u * k + j] += query[i + j];
        }
      cached = { data, dim, k, query: users, item, history: query };
    }
    return cached;
  };
  const norm = o.scale ?? 0.1;
  /**
   * Rows of `src` (k wide) into the table (dim wide, dim ≥ k; the rest 0), each rescaled to the
   * target norm, or (`shared`) all by one factor that gives the non-empty rows that mean norm.
   */
  const into = (src: Float32Array, k: number, table: Float32Array, dim: number, shared: boolean) => {
    const target = norm * Math.sqrt(dim);
    const n = Math.min(src.length / k, table.length / dim);
    const lens = new Float64Array(n);
    let sum = 0;
    let m = 0;
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += src[r * k + j] ** 2;
      lens[r] = Math.sqrt(s);
      if (s > 0) {
        sum += lens[r];
        m++;
      }
    }
    for (let r = 0; r < n; r++) {
      if (!(lens[r] > 0)) continue; // no interactions: keep the random row
      const f = target / (shared ? sum / m : lens[r]);
      for (let j = 0; j < dim; j++) table[r * dim + j] = j < k ? f * src[r * k + j] : 0;
    }
  };
  // The tables read one computation; once all have, it is dropped (the model would otherwise
  // hold dense tables' worth of start rows for its lifetime).
  const sides = new Set<SpectralSide>(o.sides ?? ["query", "item"]);
  const served = new Set<SpectralSide>();
  const take = (side: SpectralSide, ctx: EncoderContext, table: Float32Array, dim: number) => {
    const c = rows(ctx.data, dim);
    into(c[side], c.k, table, dim, side === "history" || (side === "item" && o.itemNorms === true));
    served.add(side);
    if ([...sides].every((s) => served.has(s))) {
      cached = null;
      served.clear();
    }
  };
  return {
    query: (ctx, table, dim) => take("query", ctx, table, dim),
    item: (ctx, table, dim) => take("item", ctx, table, dim),
    history: (ctx, table, dim) => take("history", ctx, table, dim),
  };
}
