/**
 * GF-CF (Shen et al., "How Powerful is Graph Convolution for Recommendation?", CIKM'21): the
 * training-free, propagation-only graph convolution. With R̃ = D_U^-1/2 R D_I^-1/2 — the user–item
 * block of LightGCN's normalised adjacency Â (graph/bipartite.ts) — a user's scores are
 *
 *   s_u = r_u · R̃ᵀR̃  +  α · r_u · D_I^-1/2 V Vᵀ D_I^1/2
 *
 * - the linear filter r_u·R̃ᵀR̃ is Â² applied to the user's interaction signal: two propagation
 *   steps, from her items to their users and back to items (computed sparsely, per user);
 * - the ideal low-pass filter projects the signal on V, the k leading eigenvectors of R̃ᵀR̃ (the
 *   smoothest signals on the item graph), found by subspace iteration with the same two-step
 *   propagation as the operator (math/eigen.ts).
 *
 * Nothing is learned by gradient: `fit` is degrees plus k eigenvectors. Any item signal can be
 * filtered, so a cold user's recent items (`recommendFromItems`) and a single item (`similarItems`)
 * use the same formula. There is no `embeddings()`: the linear filter is not low-rank.
 *
 * @example
 * const gf = await new GraphFilter({ lowPassDim: 256, lowPassWeight: 0.3 }).fit(data);
 * const recs = await gf.recommend(Int32Array.of(0, 1), 20, { exclude: train });
 */
import { assert } from "../errors.ts";
import {
  lowPassBasis,
  lowPassFactors,
  type NormalizedRatings,
  normalizedRatings,
} from "../graph/spectral.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import { buildCsr, type Csr } from "../math/csr.ts";
import { Gemm } from "../math/gemm-wasm.ts";
import { TopK, TopKHeap, topKRowInto } from "../math/topk.ts";
import type { Recommender, RecommendOptions } from "../recommender.ts";
import type { Dataset } from "../types.ts";

export interface GraphFilterOptions {
  /** k, the eigenvectors of the ideal low-pass filter; 0 keeps the linear filter only. Default 256. */
  readonly lowPassDim?: number;
  /** α, the ideal low-pass filter's weight. Default 0.3 (the paper's). */
  readonly lowPassWeight?: number;
  /** Subspace iterations for the eigenvectors (math/eigen.ts). Default 10. */
  readonly iterations?: number;
  /** Extra block columns of the eigensolver. Default max(8, k/4). */
  readonly oversample?: number;
  /** Seed of the eigensolver's start block. Default 1. */
  readonly seed?: number;
}

const TYPE = "graph-filter";
/** Users scored per block: the block's dense scores are BLOCK × nItems floats. */
const BLOCK = 256;

export class GraphFilter implements Recommender {
  readonly kind = TYPE;
  private g: NormalizedRatings | null = null;
  /** n_items × k eigenvectors V, then the low-pass factors D^-1/2 V (query) and D^1/2 V (item). */
  private v: Float32Array | null = null;
  private eigenvalues: Float64Array | null = null;
  private query: Float32Array | null = null;
  private item: Float32Array | null = null;
  /** Scoring scratch over users, kept between calls (serving scores one signal per request). */
  private acc = new Float64Array(0);
  private touched = new Int32Array(0);
  private readonly gemm = new Gemm();
  private readonly k: number;
  private readonly alpha: number;

  constructor(private readonly opts: GraphFilterOptions = {}) {
    this.k = opts.lowPassDim ?? 256;
    this.alpha = opts.lowPassWeight ?? 0.3;
    assert(
      Number.isInteger(this.k) && this.k >= 0,
      () => `graph-filter: lowPassDim must be an integer ≥ 0, got ${opts.lowPassDim}`,
    );
    assert(
      Number.isFinite(this.alpha),
      () => `graph-filter: lowPassWeight must be a finite number, got ${opts.lowPassWeight}`,
    );
  }

  get nUsers(): number {
    return this.graph().r.nRows;
  }

  get nItems(): number {
    return this.graph().r.nCols;
  }

  /** λ_1 ≥ … ≥ λ_k of R̃ᵀR̃ (λ_1 = 1 on a connected graph). */
  get lowPassValues(): Float64Array {
    this.graph();
    return this.eigenvalues as Float64Array;
  }

  async fit(data: Dataset): Promise<this> {
    const r = buildCsr(data.users.size, data.items.size, data.train.users, data.train.items, null, "one");
    const g = normalizedRatings(r);
    const k = Math.min(this.k, r.nCols);
    let v: Float32Array = new Float32Array(0);
    let values: Float64Array = new Float64Array(0);
    if (k > 0) {
      const pairs = lowPassBasis(g, k, {
        ...(this.opts.iterations === undefined ? {} : { iterations: this.opts.iterations }),
        ...(this.opts.oversample === undefined ? {} : { oversample: this.opts.oversample }),
        seed: this.opts.seed ?? 1,
      });
      v = pairs.vectors;
      values = pairs.values;
    }
    this.setState(g, v, values);
    return this;
  }

  private setState(g: NormalizedRatings, v: Float32Array, values: Float64Array): void {
    const { query, item } = lowPassFactors(g, v, values.length);
    this.g = g;
    this.v = v;
    this.eigenvalues = values;
    this.query = query;
    this.item = item;
    this.acc = new Float64Array(g.r.nRows);
    this.touched = new Int32Array(g.r.nRows);
  }

  private graph(): NormalizedRatings {
    assert(this.g !== null, () => `${TYPE}: call fit() or load() first`, "RK_ERR_NOT_FITTED");
    return this.g;
  }

  /**
   * Scores of `m` item signals into out (m × nItems): signal t is the item set
   * indices[offsets[rows[t]] .. offsets[rows[t] + 1]), each item once.
   */
  private scoreInto(
    offsets: Int32Array,
    indices: Int32Array,
    rows: Int32Array,
    m: number,
    out: Float32Array,
  ): void {
    const g = this.graph();
    const nI = g.r.nCols;
    const k = (this.eigenvalues as Float64Array).length;
    if (k > 0) {
      // ideal low-pass: (α r D^-1/2 V) · (D^1/2 V)ᵀ for all m rows in one GEMM
      const q = this.query as Float32Array;
      const a = this.alpha;
      const p = new Float32Array(m * k);
      for (let t = 0; t < m; t++)
        for (let e = offsets[rows[t]]; e < offsets[rows[t] + 1]; e++) {
          const i = indices[e] * k;
          for (let j = 0; j < k; j++) p[t * k + j] += a * q[i + j];
        }
      this.gemm.nt(p, 0, m, this.item as Float32Array, 0, nI, k, out, 0, nI);
    } else out.fill(0, 0, m * nI);
    // linear filter, sparsely: items → their users (accumulated) → those users' items
    const { r, rt } = g;
    const { acc, touched } = this;
    for (let t = 0; t < m; t++) {
      let nt = 0;
      for (let e = offsets[rows[t]]; e < offsets[rows[t] + 1]; e++) {
        const i = indices[e];
        for (let f = rt.offsets[i]; f < rt.offsets[i + 1]; f++) {
          const u = rt.indices[f];
          if (acc[u] === 0) touched[nt++] = u;
          acc[u] += rt.values[f];
        }
      }
      const o = t * nI;
      for (let x = 0; x < nt; x++) {
        const u = touched[x];
        const w = acc[u];
        acc[u] = 0;
        for (let f = r.offsets[u]; f < r.offsets[u + 1]; f++) out[o + r.indices[f]] += w * r.values[f];
      }
    }
  }

  /** Top-k of each signal row, masking mask row rows[t] (sorted ids) when a mask is given. */
  private topOf(
    offsets: Int32Array,
    indices: Int32Array,
    rows: Int32Array,
    k: number,
    mask: Csr | null,
  ): TopK {
    const nI = this.nItems;
    const out = new TopK(rows.length, k);
    const heap = new TopKHeap(k);
    const block = Math.min(BLOCK, Math.max(1, rows.length));
    const scores = new Float32Array(block * nI);
    for (let b = 0; b < rows.length; b += block) {
      const part = rows.subarray(b, Math.min(rows.length, b + block));
      this.scoreInto(offsets, indices, part, part.length, scores);
      for (let t = 0; t < part.length; t++) {
        const row = part[t];
        const has = mask !== null && row < mask.nRows;
        topKRowInto(
          scores,
          t * nI,
          nI,
          has ? mask.indices : null,
          has ? mask.offsets[row] : 0,
          has ? mask.offsets[row + 1] : 0,
          heap,
          out,
          b + t,
        );
      }
    }
    return out;
  }

  recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK {
    const { r } = this.graph();
    for (const u of users)
      assert(
        Number.isInteger(u) && u >= 0 && u < r.nRows,
        () => `${TYPE}: user index ${u} out of range [0, ${r.nRows})`,
      );
    return this.topOf(r.offsets, r.indices, users, k, opts.exclude ?? null);
  }

  /** Filters the signal of a user known only by recent items (each once), masking them and `exclude`. */
  recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    const nI = this.nItems;
    const hist = Int32Array.from(new Set(Array.from(recent).filter((i) => i >= 0 && i < nI)));
    const mask = Int32Array.from(new Set([...hist, ...(exclude ?? [])])).sort();
    return this.topOf(Int32Array.of(0, hist.length), hist, Int32Array.of(0), k, {
      nRows: 1,
      nCols: nI,
      offsets: Int32Array.of(0, mask.length),
      indices: mask,
      values: null,
    });
  }

  /** I2I: the filtered one-hot signal of each item, the item itself masked. */
  similarItems(items: Int32Array, k: number): TopK {
    const nI = this.nItems;
    for (const i of items)
      assert(
        Number.isInteger(i) && i >= 0 && i < nI,
        () => `${TYPE}: item index ${i} out of range [0, ${nI})`,
      );
    const offsets = Int32Array.from({ length: items.length + 1 }, (_, t) => t);
    // signal row t and mask row t are the same one-entry row: item t itself
    const self = { nRows: items.length, nCols: nI, offsets, indices: items, values: null };
    return this.topOf(
      offsets,
      items,
      Int32Array.from(items, (_, t) => t),
      k,
      self,
    );
  }

  params(): Record<string, unknown> {
    return { ...this.opts };
  }

  async save(dir: string): Promise<void> {
    const { r } = this.graph();
    const v = this.v as Float32Array;
    const values = this.eigenvalues as Float64Array;
    await writeArtifact(
      dir,
      {
        type: TYPE,
        params: { ...this.opts },
        meta: { nUsers: r.nRows, nItems: r.nCols, lowPassDim: values.length },
      },
      {
        "r_offsets.npy": { npy: r.offsets, shape: [r.offsets.length] },
        "r_indices.npy": { npy: r.indices, shape: [r.indices.length] },
        "eigenvectors.npy": { npy: v, shape: [r.nCols, values.length] },
        "eigenvalues.npy": { npy: values, shape: [values.length] },
      },
    );
  }

  static async load(dir: string): Promise<GraphFilter> {
    const a = await readArtifact(dir, TYPE);
    const meta = a.manifest.meta as { nUsers: number; nItems: number };
    const m = new GraphFilter(a.manifest.params as GraphFilterOptions);
    const offsets = (await a.npy("r_offsets.npy")).data as Int32Array;
    const indices = (await a.npy("r_indices.npy")).data as Int32Array;
    const r: Csr = { nRows: meta.nUsers, nCols: meta.nItems, offsets, indices, values: null };
    m.setState(
      normalizedRatings(r),
      (await a.npy("eigenvectors.npy")).data as Float32Array,
      (await a.npy("eigenvalues.npy")).data as Float64Array,
    );
    return m;
  }
}
