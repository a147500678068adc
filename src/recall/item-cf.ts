/**
 * ItemCF (spec §5.1.2): S = AᵀA over the user × item matrix A, normalised by the chosen measure
 * and pruned to the top-K neighbours per item; a user's scores are r_u = A[u,:] · S with the
 * user's own items masked. The similarity maths lives in `similarity.ts`; this file is the
 * estimator glue (options, presets, fit/partialFit, save/load) that UserCF shares.
 *
 * @example
 * const cf = await new ItemCF({ preset: "gowalla" }).fit(data);
 * const recs = await cf.recommend(Int32Array.of(0, 1), 20);   // seen items masked
 * const i2i = cf.similarItems(Int32Array.of(42), 10);
 */
import { assert, RecallkitError } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import type { Csr, Duplicates } from "../math/csr.ts";
import { TopK, TopKHeap } from "../math/topk.ts";
import type { Recommender, RecommendOptions } from "../recommender.ts";
import type { Dataset, Interactions } from "../types.ts";
import { defaultWorkers } from "../workers.ts";
import {
  affectedRows,
  buildSimilarity,
  type ContextWeight,
  historyWeights,
  type InteractionState,
  mergeInteractions,
  type NeighborRows,
  prepareSimilarity,
  relativeTimes,
  type ScoreInput,
  ScoreScratch,
  type SimInput,
  type SimilarityMeasure,
  type SimilaritySpec,
  scoreRowInto,
  scoreRows,
  shared,
  updateSimilarity,
} from "./similarity.ts";

/** Options common to ItemCF and UserCF. Every field is optional; defaults in brackets. */
export interface NeighborhoodOptions {
  /** Similarity measure (Schelter et al. RecSys'12) ["cosine"]. */
  readonly similarity?: SimilarityMeasure;
  /** "implicit": every (user, item) is 1; "explicit": interaction weights (ratings) ["implicit"]. */
  readonly values?: "implicit" | "explicit";
  /** How repeated explicit (user, item) rows combine ["sum"]. */
  readonly duplicates?: Duplicates;
  /** Norms use the context weights too [false: plain degrees]. */
  readonly weightNorms?: boolean;
  /** Row-side normalisation exponent α of cosine/pearson: dot / (n_x^α n_j^β) [0.5]. */
  readonly alpha?: number;
  /** Column-side exponent β [1 − alpha]. */
  readonly beta?: number;
  /** Added to the similarity denominator (cosine, pearson, jaccard) [0]. */
  readonly shrink?: number;
  /** Neighbours kept per row; 0 keeps every co-occurring one [200]. */
  readonly neighbors?: number;
  /** Pair time decay half-life: a co-occurrence counts 2^(−|Δt|/h) [0 = off; needs timestamps]. */
  readonly pairHalfLifeSec?: number;
  /** Rescale each similarity row after pruning: "max" (best = 1) or "sum" (= 1) ["none"]. */
  readonly rowNormalize?: "none" | "max" | "sum";
  /** Prediction: a history item `age` s older than the user's newest counts 2^(−age/h) [0 = off]. */
  readonly recencyHalfLifeSec?: number;
  /** Worker threads for build and batch scoring; 0 runs in-process [RECALLKIT_WORKERS or cores]. */
  readonly workers?: number;
}

export interface ItemCFOptions extends NeighborhoodOptions {
  /** Start from a named preset; explicit options override it. */
  readonly preset?: ItemCFPreset;
  /** Weight of each user's contribution to co-occurrence: 1/|I_u|^γ ("inverse"), (1/ln(1+|I_u|))^γ ("log") ["none"]. */
  readonly userWeight?: ContextWeight;
  /** γ, the exponent of `userWeight` [1]. */
  readonly userWeightPower?: number;
}

/**
 * Named presets. "cosine": the textbook cosine ItemCF pruned to 200 neighbours (the SciPy peer's
 * model; Gowalla Recall@20 0.118). "gowalla": the best setting of the grid in
 * bench/suites/itemcf.ts on the Gowalla LightGCN split — each user's co-occurrences weighted by
 * 1/|I_u|, S[i,j] = c_ij / (d_i^0.7 · d_j^0.2), unpruned (Recall@20 0.1887, NDCG@20 0.1564;
 * `neighbors: 500` keeps 0.1882 with 42% of the entries and faster scoring).
 */
export const itemCFPresets = {
  cosine: { similarity: "cosine", alpha: 0.5, neighbors: 200 },
  gowalla: {
    similarity: "cosine",
    userWeight: "inverse",
    userWeightPower: 1,
    alpha: 0.7,
    beta: 0.2,
    neighbors: 0,
  },
} as const satisfies Record<string, ItemCFOptions>;
export type ItemCFPreset = keyof typeof itemCFPresets;

/** What one `partialFit` did. */
export interface PartialFitReport {
  /** Similarity rows recomputed (all of them on a full rebuild). */
  readonly rows: number;
  readonly fullRebuild: boolean;
  readonly seconds: number;
}

/** Resolved options shared by both models (entity/context-neutral). */
export interface ResolvedOptions {
  readonly similarity: SimilarityMeasure;
  readonly values: "implicit" | "explicit";
  readonly duplicates: Duplicates;
  readonly contextWeight: ContextWeight;
  readonly contextWeightPower: number;
  readonly weightNorms: boolean;
  readonly alpha: number;
  readonly beta: number;
  readonly shrink: number;
  readonly neighbors: number;
  readonly pairHalfLifeSec: number;
  readonly rowNormalize: "none" | "max" | "sum";
  readonly recencyHalfLifeSec: number;
  readonly workers: number;
}

const MEASURES: readonly string[] = ["cooccurrence", "cosine", "pearson", "euclidean", "jaccard"];
const WEIGHTS: readonly string[] = ["none", "inverse", "log"];

/** Validates once at the boundary (names the bad value and the fix). */
export function resolveOptions(
  name: string,
  o: NeighborhoodOptions,
  contextWeight: ContextWeight | undefined,
  contextWeightPower: number | undefined,
): ResolvedOptions {
  const alpha = o.alpha ?? 0.5;
  const r: ResolvedOptions = {
    similarity: o.similarity ?? "cosine",
    values: o.values ?? "implicit",
    duplicates: o.duplicates ?? "sum",
    contextWeight: contextWeight ?? "none",
    contextWeightPower: contextWeightPower ?? 1,
    weightNorms: o.weightNorms ?? false,
    alpha,
    beta: o.beta ?? 1 - alpha,
    shrink: o.shrink ?? 0,
    neighbors: o.neighbors ?? 200,
    pairHalfLifeSec: o.pairHalfLifeSec ?? 0,
    rowNormalize: o.rowNormalize ?? "none",
    recencyHalfLifeSec: o.recencyHalfLifeSec ?? 0,
    workers: o.workers ?? defaultWorkers(),
  };
  assert(
    MEASURES.includes(r.similarity),
    () => `${name}: similarity "${r.similarity}" is unknown; use one of ${MEASURES.join(", ")}`,
  );
  assert(
    WEIGHTS.includes(r.contextWeight),
    () => `${name}: weight "${r.contextWeight}" is unknown; use one of ${WEIGHTS.join(", ")}`,
  );
  assert(
    r.values === "implicit" || r.values === "explicit",
    () => `${name}: values must be "implicit" or "explicit", got "${r.values}"`,
  );
  assert(
    Number.isInteger(r.neighbors) && r.neighbors >= 0,
    () => `${name}: neighbors must be an integer ≥ 0 (0 = all), got ${r.neighbors}`,
  );
  assert(
    Number.isInteger(r.workers) && r.workers >= 0,
    () => `${name}: workers must be an integer ≥ 0, got ${r.workers}`,
  );
  for (const [k, v] of [
    ["alpha", r.alpha],
    ["beta", r.beta],
    ["shrink", r.shrink],
    ["pairHalfLifeSec", r.pairHalfLifeSec],
    ["recencyHalfLifeSec", r.recencyHalfLifeSec],
    ["weight power", r.contextWeightPower],
  ] as const) {
    assert(Number.isFinite(v) && v >= 0, () => `${name}: ${k} must be a finite number ≥ 0, got ${v}`);
  }
  assert(
    ["none", "max", "sum"].includes(r.rowNormalize),
    () => `${name}: rowNormalize must be "none", "max" or "sum", got "${r.rowNormalize}"`,
  );
  return r;
}

export function specOf(r: ResolvedOptions): SimilaritySpec {
  return {
    measure: r.similarity,
    contextWeight: r.contextWeight,
    contextWeightPower: r.contextWeightPower,
    weightNorms: r.weightNorms,
    alpha: r.alpha,
    beta: r.beta,
    shrink: r.shrink,
    neighbors: r.neighbors,
    pairHalfLifeSec: r.pairHalfLifeSec,
    rowNormalize: r.rowNormalize,
  };
}

/**
 * The estimator glue both CF models share: interaction state, similarity build, incremental
 * update, save/load. `byItem` says which side the similarity is over (items for ItemCF).
 */
export abstract class NeighborhoodModel {
  abstract readonly kind: string;
  protected abstract readonly byItem: boolean;
  protected readonly opts: ResolvedOptions;
  protected readonly given: Record<string, unknown>;
  protected state: InteractionState | null = null;
  protected sim: NeighborRows | null = null;
  /** Kernel input of the last build (kept only for UserCF's vector queries; else null). */
  protected input: SimInput | null = null;
  protected hist: Float32Array | null = null;
  /**
   * Scratch reused by single-query calls (recommendFromItems, recommend for a few users), one per
   * k (a service asks with a few different k), so serving allocates per call only the result.
   */
  protected readonly single = new ScratchCache();
  protected nUsers = 0;
  protected nItems = 0;
  /** Seconds of the last similarity build (prepare + rows + assembly). */
  buildSeconds = 0;

  constructor(opts: ResolvedOptions, given: Record<string, unknown>) {
    this.opts = opts;
    this.given = given;
  }

  params(): Record<string, unknown> {
    const { workers: _w, ...rest } = this.opts;
    return { ...rest };
  }

  /** Fits on `data.train` (values per `values`, timestamps when decay options need them). */
  async fit(data: Dataset): Promise<this> {
    const st = mergeInteractions(
      null,
      data.train,
      data.users.size,
      data.items.size,
      this.opts.values === "explicit",
      this.opts.duplicates,
      this.needsTs(),
    );
    await this.fitState(st);
    return this;
  }

  /** Fits directly on a user × item matrix (values null = implicit 1) and optional per-entry times. */
  async fitMatrix(a: Csr, ts: Float64Array | null = null): Promise<this> {
    const values = this.opts.values === "explicit" ? a.values : null;
    await this.fitState({ a: { ...a, values }, ts: this.needsTs() ? ts : null });
    return this;
  }

  private needsTs(): boolean {
    return this.opts.pairHalfLifeSec > 0 || this.opts.recencyHalfLifeSec > 0;
  }

  protected async fitState(st: InteractionState): Promise<void> {
    const t0 = performance.now();
    this.setState(st);
    const inp = this.prepare();
    this.sim = await buildSimilarity(inp, this.opts.workers);
    this.input = this.keepInput() ? inp : null;
    this.buildSeconds = (performance.now() - t0) / 1000;
  }

  private setState(st: InteractionState): void {
    this.state = st;
    this.nUsers = st.a.nRows;
    this.nItems = st.a.nCols;
    this.hist = historyWeights(st, this.opts.recencyHalfLifeSec);
  }

  /** Context → entity matrix and times in the orientation of the similarity. */
  private prepare(): SimInput {
    const st = this.state as InteractionState;
    const ts = relativeTimes(this.opts.pairHalfLifeSec > 0 ? st.ts : null);
    if (this.byItem) return prepareSimilarity(st.a, ts, specOf(this.opts));
    const t = transposeWithValues(st.a, ts);
    return prepareSimilarity(t.a, t.ts, specOf(this.opts));
  }

  protected keepInput(): boolean {
    return false;
  }

  /**
   * Adds interactions and updates S without a full rebuild: the new log is merged into A (as if
   * fit on the concatenated logs), then only the rows whose scores can change are recomputed —
   * every entity co-occurring with an entity that received interactions (its norm changed), plus,
   * with weighted norms, those of the touched contexts' entities. Cost: O(nnz(A) log) merge and
   * O(nnz(A)) preparation, Σ work of the recomputed rows, one O(nnz(S)) copy. Pearson on implicit
   * data depends on global sums, so it rebuilds fully; so does an update touching over half the rows.
   * Ids beyond the current counts grow the model.
   */
  async partialFit(log: Interactions): Promise<PartialFitReport> {
    this.check();
    const t0 = performance.now();
    let nU = this.nUsers;
    let nI = this.nItems;
    for (let e = 0; e < log.length; e++) {
      if (log.users[e] >= nU) nU = log.users[e] + 1;
      if (log.items[e] >= nI) nI = log.items[e] + 1;
    }
    const st = mergeInteractions(
      this.state,
      log,
      nU,
      nI,
      this.opts.values === "explicit",
      this.opts.duplicates,
      this.state?.ts != null || (this.needsTs() && log.ts !== null),
    );
    this.setState(st);
    const inp = this.prepare();
    const changedEntities = new Uint8Array(inp.nRows);
    const changedContexts = new Uint8Array(inp.nCtx);
    for (let e = 0; e < log.length; e++) {
      changedEntities[this.byItem ? log.items[e] : log.users[e]] = 1;
      changedContexts[this.byItem ? log.users[e] : log.items[e]] = 1;
    }
    const rows = affectedRows(inp, changedEntities, changedContexts, this.opts.weightNorms);
    const full = inp.q !== null || rows.length * 2 > inp.nRows || this.sim === null;
    this.sim = full
      ? await buildSimilarity(inp, this.opts.workers)
      : await updateSimilarity(inp, this.sim as NeighborRows, rows, this.opts.workers);
    this.input = this.keepInput() ? inp : null;
    return {
      rows: full ? inp.nRows : rows.length,
      fullRebuild: full,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** The similarity rows (items for ItemCF, users for UserCF). */
  similarity(): NeighborRows {
    this.check();
    return this.sim as NeighborRows;
  }

  /** Top-k of one row of S for each id (the id itself is never its own neighbour). */
  protected neighborsOf(ids: Int32Array, k: number): TopK {
    const s = this.similarity();
    const out = new TopK(ids.length, k);
    const heap = new TopKHeap(k);
    for (let q = 0; q < ids.length; q++) {
      const x = ids[q];
      assert(
        Number.isInteger(x) && x >= 0 && x < s.nRows,
        () => `${this.kind}: id ${x} is outside [0, ${s.nRows})`,
      );
      heap.reset();
      for (let e = s.offsets[x]; e < s.offsets[x + 1]; e++) heap.push(s.scores[e], s.indices[e]);
      heap.drainInto(out, q);
    }
    return out;
  }

  protected checkUsers(users: Int32Array): void {
    for (let q = 0; q < users.length; q++) {
      const u = users[q];
      assert(
        Number.isInteger(u) && u >= 0 && u < this.nUsers,
        () =>
          `${this.kind}: user ${u} is outside [0, ${this.nUsers}); new users go through recommendFromItems or partialFit`,
      );
    }
  }

  /** Mask for recommend: undefined → the training matrix, null → none. */
  protected maskOf(opts: RecommendOptions): Csr | null {
    return opts.exclude === undefined ? (this.state as InteractionState).a : opts.exclude;
  }

  protected scoreInput(
    p: { off: Int32Array; idx: Int32Array; val: Float32Array | null },
    m: { off: Int32Array; idx: Int32Array; val: Float32Array | null },
    nOut: number,
    mask: Csr | null,
  ): ScoreInput {
    return {
      nOut,
      pOff: p.off,
      pIdx: p.idx,
      pVal: p.val,
      mOff: m.off,
      mIdx: m.idx,
      mVal: m.val,
      xOff: mask === null ? null : mask.offsets,
      xIdx: mask === null ? null : mask.indices,
    };
  }

  protected check(): void {
    assert(
      this.sim !== null && this.state !== null,
      () => `${this.kind}: call fit() or load() first`,
      "RK_ERR_NOT_FITTED",
    );
  }

  async save(dir: string): Promise<void> {
    this.check();
    const st = this.state as InteractionState;
    const s = this.sim as NeighborRows;
    const payloads: Parameters<typeof writeArtifact>[2] = {
      "a_offsets.npy": { npy: st.a.offsets, shape: [st.a.offsets.length] },
      "a_indices.npy": { npy: st.a.indices, shape: [st.a.indices.length] },
      "s_offsets.npy": { npy: s.offsets, shape: [s.offsets.length] },
      "s_indices.npy": { npy: s.indices, shape: [s.indices.length] },
      "s_scores.npy": { npy: s.scores, shape: [s.scores.length] },
    };
    if (st.a.values !== null) payloads["a_values.npy"] = { npy: st.a.values, shape: [st.a.values.length] };
    if (st.ts !== null) payloads["a_ts.npy"] = { npy: st.ts, shape: [st.ts.length] };
    await writeArtifact(
      dir,
      {
        type: this.kind,
        params: { ...this.given },
        meta: { nUsers: this.nUsers, nItems: this.nItems, nnzS: s.indices.length },
      },
      payloads,
    );
  }

  /** Restores state saved by `save` into a fresh model of the right kind. */
  protected static async restore<T extends NeighborhoodModel>(
    dir: string,
    kind: string,
    make: (params: Record<string, unknown>) => T,
  ): Promise<T> {
    const art = await readArtifact(dir, kind);
    const m = make(art.manifest.params);
    const meta = art.manifest.meta as { nUsers: number; nItems: number };
    const get = async (name: string) => (await art.npy(name)).data;
    const has = (name: string) => name in art.manifest.files;
    const a: Csr = {
      nRows: meta.nUsers,
      nCols: meta.nItems,
      offsets: (await get("a_offsets.npy")) as Int32Array,
      indices: (await get("a_indices.npy")) as Int32Array,
      values: has("a_values.npy") ? ((await get("a_values.npy")) as Float32Array) : null,
    };
    const ts = has("a_ts.npy") ? ((await get("a_ts.npy")) as Float64Array) : null;
    const offsets = shared((await get("s_offsets.npy")) as Int32Array);
    const n = offsets.length - 1;
    if (a.offsets.length !== meta.nUsers + 1 || n !== (m.byItem ? meta.nItems : meta.nUsers)) {
      throw new RecallkitError(
        "RK_ERR_ARTIFACT",
        `${dir}: payload shapes do not match nUsers=${meta.nUsers}, nItems=${meta.nItems}`,
      );
    }
    m.setState({ a, ts });
    m.sim = {
      nRows: n,
      nCols: n,
      offsets,
      indices: shared((await get("s_indices.npy")) as Int32Array),
      scores: shared((await get("s_scores.npy")) as Float32Array),
    };
    if (m.keepInput()) m.input = m.prepare();
    return m;
  }
}

/** Transpose of A with values and per-entry times carried along (user × item → item × user). */
export function transposeWithValues(a: Csr, ts: Float32Array | null): { a: Csr; ts: Float32Array | null } {
  const nnz = a.indices.length;
  const offsets = new Int32Array(a.nCols + 1);
  for (let e = 0; e < nnz; e++) offsets[a.indices[e] + 1]++;
  for (let c = 0; c < a.nCols; c++) offsets[c + 1] += offsets[c];
  const pos = offsets.slice(0, a.nCols);
  const indices = new Int32Array(nnz);
  const values = a.values === null ? null : new Float32Array(nnz);
  const t = ts === null ? null : new Float32Array(nnz);
  for (let r = 0; r < a.nRows; r++) {
    for (let e = a.offsets[r]; e < a.offsets[r + 1]; e++) {
      const p = pos[a.indices[e]]++;
      indices[p] = r;
      if (values !== null) values[p] = (a.values as Float32Array)[e];
      if (t !== null) t[p] = (ts as Float32Array)[e];
    }
  }
  return { a: { nRows: a.nCols, nCols: a.nRows, offsets, indices, values }, ts: t };
}

export class ItemCF extends NeighborhoodModel implements Recommender {
  readonly kind = "itemcf";
  protected readonly byItem = true;

  constructor(options: ItemCFOptions = {}) {
    const o: ItemCFOptions = {
      ...(options.preset === undefined ? {} : itemCFPresets[options.preset]),
      ...options,
    };
    assert(
      options.preset === undefined || options.preset in itemCFPresets,
      () =>
        `ItemCF: preset "${options.preset}" is unknown; use one of ${Object.keys(itemCFPresets).join(", ")}`,
    );
    super(resolveOptions("ItemCF", o, o.userWeight, o.userWeightPower), { ...options });
  }

  override params(): Record<string, unknown> {
    const { contextWeight, contextWeightPower, ...rest } = super.params();
    return { ...rest, userWeight: contextWeight, userWeightPower: contextWeightPower };
  }

  /**
   * r_u = A[u,:] · S over the user's history (weighted by value and recency), masked by
   * `opts.exclude` (default: the training items; null: nothing), top-k per user.
   */
  recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK | Promise<TopK> {
    this.check();
    this.checkUsers(users);
    const a = (this.state as InteractionState).a;
    const s = this.sim as NeighborRows;
    const inp = this.scoreInput(
      { off: a.offsets, idx: a.indices, val: this.hist },
      { off: s.offsets, idx: s.indices, val: s.scores },
      this.nItems,
      this.maskOf(opts),
    );
    return scoreFew(inp, users, k, this.single) ?? scoreRows(inp, users, users, k, this.opts.workers);
  }

  /** I2I: the k nearest items of each item, best first. */
  similarItems(items: Int32Array, k: number): TopK {
    return this.neighborsOf(items, k);
  }

  /**
   * Scores Σ_t S[recent[t], :] for a user known only by a short history (most recent last; each
   * item counts once), masking the history and `exclude`.
   */
  recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    this.check();
    const s = this.sim as NeighborRows;
    const hist = Int32Array.from(new Set(Array.from(recent).filter((i) => i >= 0 && i < this.nItems)));
    const mask = Int32Array.from([...hist, ...(exclude ?? [])]);
    const inp = this.scoreInput(
      { off: Int32Array.of(0, hist.length), idx: hist, val: null },
      { off: s.offsets, idx: s.indices, val: s.scores },
      this.nItems,
      { nRows: 1, nCols: this.nItems, offsets: Int32Array.of(0, mask.length), indices: mask, values: null },
    );
    return scoreOne(inp, k, this.single);
  }

  static async load(dir: string): Promise<ItemCF> {
    return NeighborhoodModel.restore(dir, "itemcf", (p) => new ItemCF({ ...(p as ItemCFOptions) }));
  }
}

/** Scoring scratch per k, sized to the model's output (a few k at most are kept). */
export class ScratchCache {
  private readonly byK = new Map<number, ScoreScratch>();

  get(nOut: number, k: number): ScoreScratch {
    const hit = this.byK.get(k);
    if (hit !== undefined && hit.acc.length === nOut) return hit;
    const sc = new ScoreScratch(nOut, k);
    if (this.byK.size >= 4) this.byK.delete(this.byK.keys().next().value as number);
    this.byK.set(k, sc);
    return sc;
  }
}

/** Scores row 0 of a one-query input in-process, with the cache's scratch for k. */
export function scoreOne(inp: ScoreInput, k: number, cache: ScratchCache): TopK {
  const top = new TopK(1, k);
  scoreRowInto(inp, 0, 0, cache.get(inp.nOut, k), top.ids, top.scores, top.counts, 0);
  return top;
}

/**
 * A request-sized batch (≤ 8 queries, query q masked by mask row queries[q]) scored in-process
 * with cached scratch: no shared buffers, no workers, no per-call scratch (the serving path).
 * Larger batches return null (`scoreRows` splits them over workers).
 */
export function scoreFew(inp: ScoreInput, queries: Int32Array, k: number, cache: ScratchCache): TopK | null {
  if (queries.length > 8) return null;
  const top = new TopK(queries.length, k);
  const sc = cache.get(inp.nOut, k);
  for (let q = 0; q < queries.length; q++)
    scoreRowInto(inp, queries[q], queries[q], sc, top.ids, top.scores, top.counts, q);
  return top;
}
