/**
 * What every index keeps in JS: the item vectors (row-major, grown by doubling), the row → id
 * table, the id → row map (none while ids are 0, 1, 2, … in order), and the boundary checks and
 * exclusion plumbing shared by the exact and HNSW indexes. Rows are insertion order; ties in
 * score break toward the smaller row.
 */
import { assert } from "../errors.ts";
import { normalizeRows } from "../math/blas.ts";
import { TopK } from "../math/topk.ts";
import type {
  BatchExclude,
  BatchSearchOptions,
  Exclude,
  ExcludeRows,
  Metric,
  SearchOptions,
} from "./ann-index.ts";

export const METRICS: readonly Metric[] = ["ip", "cosine", "l2"];

export function checkMetric(metric: string): asserts metric is Metric {
  assert(
    (METRICS as readonly string[]).includes(metric),
    () => `metric must be "ip", "cosine" or "l2", got "${metric}"`,
  );
}

export function checkDim(dim: number): void {
  assert(Number.isInteger(dim) && dim >= 1, () => `dim must be an integer ≥ 1, got ${dim}`);
}

export function checkK(k: number): void {
  assert(Number.isInteger(k) && k >= 1, () => `k must be an integer ≥ 1, got ${k}`);
}

export function checkQueries(queries: Float32Array, n: number, dim: number): void {
  assert(queries instanceof Float32Array, () => "queries must be a Float32Array (row-major, n × dim)");
  assert(Number.isInteger(n) && n >= 0, () => `n must be an integer ≥ 0, got ${n}`);
  assert(
    queries.length === n * dim,
    () => `queries hold ${queries.length} values, expected n × dim = ${n} × ${dim} = ${n * dim} (wrong dim?)`,
  );
}

export function checkOut(out: TopK, n: number, k: number): void {
  assert(
    out.n >= n && out.k === k,
    () => `output TopK is ${out.n} × ${out.k}, expected ≥ ${n} rows of k = ${k}`,
  );
}

/** Turns a single query's options into the batch form (a batch of one). */
export function batchOptions(opts: SearchOptions | undefined): BatchSearchOptions | undefined {
  if (opts === undefined) return undefined;
  const ex = opts.exclude;
  const exclude: BatchExclude | undefined =
    typeof ex === "function" ? (id: number) => (ex as (id: number) => boolean)(id) : ex;
  const o: { exclude?: BatchExclude; ef?: number } = {};
  if (exclude !== undefined) o.exclude = exclude;
  if (opts.ef !== undefined) o.ef = opts.ef;
  return o;
}

/**
 * A batch's exclusions, resolved once. Query q's list is `list[from(q) .. to(q))` (ids), or
 * `pred(id, q)` decides; at most one of the two is set.
 */
export class ExclusionPlan {
  readonly list: ArrayLike<number> | null = null;
  readonly pred: ((id: number, query: number) => boolean) | null = null;
  private readonly offsets: ArrayLike<number> | null = null;
  private readonly rows: ArrayLike<number> | null = null;

  constructor(ex: BatchExclude | Exclude | undefined, n: number) {
    if (ex === undefined || ex === null) return;
    if (typeof ex === "function") {
      this.pred = ex as (id: number, query: number) => boolean;
      return;
    }
    if (typeof ex === "object" && "offsets" in ex && "indices" in ex) {
      const r = ex as ExcludeRows;
      this.list = r.indices;
      this.offsets = r.offsets;
      this.rows = r.rows ?? null;
      const nRows = r.offsets.length - 1;
      if (this.rows !== null) {
        assert(this.rows.length >= n, () => `exclude.rows has ${this.rows?.length} entries for ${n} queries`);
        for (let q = 0; q < n; q++) {
          const row = this.rows[q];
          assert(
            Number.isInteger(row) && row >= 0 && row < nRows,
            () => `exclude.rows[${q}] = ${row} is not a row of the ${nRows}-row exclusion matrix`,
          );
        }
      } else {
        assert(
          nRows >= n,
          () => `exclusion matrix has ${nRows} rows for ${n} queries (pass exclude.rows to map them)`,
        );
      }
      return;
    }
    assert(
      typeof (ex as ArrayLike<number>).length === "number",
      () => "exclude must be a list of ids, a function or CSR rows",
    );
    this.list = ex as ArrayLike<number>;
  }

  /** Start of query q's slice of `list`. */
  from(q: number): number {
    if (this.offsets === null) return 0;
    return this.offsets[this.rows === null ? q : this.rows[q]];
  }

  /** End of query q's slice of `list`. */
  to(q: number): number {
    if (this.offsets === null) return this.list === null ? 0 : this.list.length;
    return this.offsets[(this.rows === null ? q : this.rows[q]) + 1];
  }
}

export class VectorStore {
  readonly dim: number;
  readonly metric: Metric;
  size = 0;
  /** Item vectors, row-major (normalised under cosine); capacity ≥ size. */
  data: Float32Array;
  /** row → id. */
  ids: Int32Array;
  /** ‖x‖² per row. */
  norms2: Float32Array;
  /** Largest ‖x‖² so far. */
  maxNorm2 = 0;
  /** id → row; null while every id equals its row. */
  private idToRow: Map<number, number> | null = null;
  /** Scratch row mask (0/1) for list exclusions; always left all-zero. */
  private mask: Uint8Array;

  constructor(dim: number, metric: Metric, capacity = 0) {
    this.dim = dim;
    this.metric = metric;
    this.data = new Float32Array(capacity * dim);
    this.ids = new Int32Array(capacity);
    this.norms2 = new Float32Array(capacity);
    this.mask = new Uint8Array(capacity);
  }

  /**
   * Validates ids and vectors, copies them in (normalised under cosine unless `raw`, which
   * restores rows saved already normalised); returns the first new row.
   */
  append(vectors: Float32Array, ids: Int32Array | undefined, raw = false): number {
    const dim = this.dim;
    assert(vectors instanceof Float32Array, () => "vectors must be a Float32Array (row-major, n × dim)");
    assert(
      vectors.length % dim === 0,
      () => `vectors hold ${vectors.length} values, not a multiple of dim ${dim} (wrong dim?)`,
    );
    const n = vectors.length / dim;
    for (let i = 0; i < vectors.length; i++) {
      const v = vectors[i];
      if (!Number.isFinite(v)) {
        assert(false, () => `vectors[${i}] (row ${Math.floor(i / dim)}) is ${v}; vectors must be finite`);
      }
    }
    const row0 = this.size;
    if (ids !== undefined) {
      assert(
        ids instanceof Int32Array && ids.length === n,
        () => `ids must be an Int32Array of ${n} entries, got ${ids?.length}`,
      );
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) {
        const id = ids[i];
        assert(id >= 0, () => `ids[${i}] = ${id}; ids must be ≥ 0`);
        assert(
          !seen.has(id) && this.rowOf(id) < 0,
          () => `ids[${i}] = ${id} is already in the index; ids must be unique`,
        );
        seen.add(id);
      }
    }
    this.reserve(row0 + n);
    this.data.set(vectors, row0 * dim);
    if (this.metric === "cosine" && !raw)
      normalizeRows(this.data.subarray(row0 * dim, (row0 + n) * dim), n, dim);
    for (let r = row0; r < row0 + n; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += this.data[r * dim + j] * this.data[r * dim + j];
      this.norms2[r] = s;
      if (s > this.maxNorm2) this.maxNorm2 = s;
    }
    for (let i = 0; i < n; i++) {
      const id = ids === undefined ? row0 + i : ids[i];
      this.ids[row0 + i] = id;
      if (this.idToRow === null && id !== row0 + i) {
        this.idToRow = new Map();
        for (let r = 0; r < row0 + i; r++) this.idToRow.set(r, r);
      }
      this.idToRow?.set(id, row0 + i);
    }
    this.size = row0 + n;
    return row0;
  }

  /** Row of an id, or −1. */
  rowOf(id: number): number {
    if (this.idToRow === null) return Number.isInteger(id) && id >= 0 && id < this.size ? id : -1;
    return this.idToRow.get(id) ?? -1;
  }

  /** Whether ids are 0 … size−1 in row order (then rows are ids). */
  get identityIds(): boolean {
    return this.idToRow === null;
  }

  /** Sets (1) or clears (0) the mask of the rows of `list[from .. to)`; unknown ids are skipped. */
  markInto(list: ArrayLike<number>, from: number, to: number, v: 0 | 1): number {
    let marked = 0;
    for (let e = from; e < to; e++) {
      const r = this.rowOf(list[e]);
      if (r >= 0) {
        this.mask[r] = v;
        marked++;
      }
    }
    return marked;
  }

  /** The scratch mask (read-only for callers; cleared by `markInto(…, 0)`). */
  get masked(): Uint8Array {
    return this.mask;
  }

  /**
   * Query q prepared for scoring against `data`: a normalised copy into `out` under cosine,
   * otherwise copied as is. Returns ‖q‖² of the prepared query.
   */
  prepareQueryInto(queries: Float32Array, q: number, out: Float32Array, outOff: number): number {
    const dim = this.dim;
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = queries[q * dim + j];
      out[outOff + j] = v;
      s += v * v;
    }
    if (this.metric === "cosine" && s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < dim; j++) out[outOff + j] *= inv;
      return 1;
    }
    return s;
  }

  /** Snapshot of the used part: vectors (size × dim) and ids. */
  snapshot(): { vectors: Float32Array; ids: Int32Array } {
    return { vectors: this.data.slice(0, this.size * this.dim), ids: this.ids.slice(0, this.size) };
  }

  private reserve(rows: number): void {
    if (rows <= this.ids.length) return;
    const cap = Math.max(rows, this.ids.length * 2, 16);
    const data = new Float32Array(cap * this.dim);
    data.set(this.data.subarray(0, this.size * this.dim));
    this.data = data;
    const ids = new Int32Array(cap);
    ids.set(this.ids.subarray(0, this.size));
    this.ids = ids;
    const norms2 = new Float32Array(cap);
    norms2.set(this.norms2.subarray(0, this.size));
    this.norms2 = norms2;
    this.mask = new Uint8Array(cap);
  }
}

/**
 * The single-query and allocating forms of search, shared by every index: both reduce to the
 * index's own `searchBatchInto`.
 */
export abstract class SearchForms {
  abstract searchBatchInto(
    queries: Float32Array,
    n: number,
    k: number,
    out: TopK,
    opts?: BatchSearchOptions,
  ): void;

  search(query: Float32Array, k: number, opts?: SearchOptions): TopK {
    return this.searchBatch(query, 1, k, batchOptions(opts));
  }

  searchBatch(queries: Float32Array, n: number, k: number, opts?: BatchSearchOptions): TopK {
    checkK(k);
    const out = new TopK(n, k);
    this.searchBatchInto(queries, n, k, out, opts);
    return out;
  }
}
