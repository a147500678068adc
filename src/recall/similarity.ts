/**
 * Neighbourhood similarity for ItemCF and UserCF (spec §5.1.2): S = AᵀA computed sparsely, one
 * row at a time, through the per-context lists (never a dense n×n), then normalised and pruned
 * to the top-K neighbours per row.
 *
 * Vocabulary. An *entity* is what gets a similarity row (items for ItemCF, users for UserCF); a
 * *context* is what two entities co-occur in (users for ItemCF, items for UserCF). The input is
 * the context → entity matrix A (for ItemCF the usual user × item matrix) and its transpose.
 *
 * Measures follow Schelter, Boden & Markl, "Scalable similarity-based neighborhood methods with
 * MapReduce" (RecSys'12): each is `preprocess(v)` per entity vector, a `norm(v)`, the sparse dot
 * products, and `similarity(dot, norm_x, norm_j)`:
 *
 * | measure        | preprocess                                   | similarity(x, j)                                         |
 * |----------------|----------------------------------------------|----------------------------------------------------------|
 * | `cooccurrence` | —                                            | dot                                                      |
 * | `cosine`       | —                                            | dot / (n_x^α · n_j^β + shrink),  n = Σ_c v², β = 1 − α    |
 * | `pearson`      | centre (see below)                           | cosine of the centred vectors                            |
 * | `euclidean`    | —                                            | 1 / (1 + √(n_x + n_j − 2·dot))                           |
 * | `jaccard`      | binarise                                     | dot / (n_x + n_j − dot + shrink),  n = support size       |
 *
 * α = β = ½ is plain cosine; on binary data n is the entity degree d, so cosine becomes the
 * "asymmetric cosine" c_xj / (d_x^α d_j^(1−α)). Pearson centres each entity on the mean of its
 * stored values (Schelter) for explicit values; binary data would centre to all zeros there, so
 * for implicit values it is the correlation over all contexts (missing = 0, the φ coefficient),
 * computed sparsely as (dot − s_x s_j / W) / (…) with s = Σ_c w_c v and W = Σ_c w_c — the
 * w-weighted correlation (its variances always use the weights).
 *
 * Context weighting (`contextWeight`): each context's contribution to every dot product is
 * scaled by w_c = 1/|c|^γ ("inverse", e.g. inverse user activity, the IUF of ItemCF) or
 * (1/ln(1 + |c|))^γ ("log"), where |c| is the number of entities in the context. Norms stay
 * unweighted unless `weightNorms`. Pair time decay multiplies each co-occurrence by
 * 2^(−|t_cx − t_cj| / halfLife). Only co-occurring pairs are stored, and only scores > 0.
 */

import type { Worker } from "node:worker_threads";
import { buildCsr, type Csr, type Duplicates, transposeCsr } from "../math/csr.ts";
import { TopK, TopKHeap } from "../math/topk.ts";
import type { Interactions } from "../types.ts";
import { startWorker, workerUrl } from "../workers.ts";

export type SimilarityMeasure = "cooccurrence" | "cosine" | "pearson" | "euclidean" | "jaccard";
export type ContextWeight = "none" | "inverse" | "log";

/** Similarity options in entity/context terms (ItemCF and UserCF translate theirs into these). */
export interface SimilaritySpec {
  readonly measure: SimilarityMeasure;
  readonly contextWeight: ContextWeight;
  /** γ: exponent of the context weight. */
  readonly contextWeightPower: number;
  /** Whether norms use the context weights too (default false: norms are plain degrees/Σv²). */
  readonly weightNorms: boolean;
  /** α: row-side normalisation exponent of cosine/pearson. */
  readonly alpha: number;
  /** β: column-side exponent; defaults to 1 − α. */
  readonly beta: number;
  /** Added to the denominator of cosine, pearson and jaccard (0 = none). */
  readonly shrink: number;
  /** Neighbours kept per row (0 = all). */
  readonly neighbors: number;
  /** Half-life in seconds of the pair time decay (0 = none; needs timestamps). */
  readonly pairHalfLifeSec: number;
  /** Rescale each pruned row: "none", "max" (best = 1) or "sum" (row sums to 1). */
  readonly rowNormalize: "none" | "max" | "sum";
}

/**
 * Sparse rows of neighbour scores. Pruned rows (`neighbors` > 0) hold the K best entries (ties at
 * the cut: smaller ids); entries within a row are in a deterministic but unspecified order (use
 * a heap, as `similarItems` does, for best-first). Arrays live in SharedArrayBuffers so scoring
 * workers read them without a copy.
 */
export interface NeighborRows {
  readonly nRows: number;
  readonly nCols: number;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  readonly scores: Float32Array;
}

/** Everything the row kernel reads; typed arrays are shared so workers see them without a copy. */
export interface SimInput {
  readonly nRows: number;
  readonly nCtx: number;
  /** entity → contexts (Aᵀ): offsets, context ids, preprocessed values (null = 1), times (null). */
  readonly eOff: Int32Array;
  readonly eIdx: Int32Array;
  readonly eVal: Float32Array | null;
  readonly eTs: Float32Array | null;
  /** context → entities (A), same entries as above. */
  readonly cOff: Int32Array;
  readonly cIdx: Int32Array;
  readonly cVal: Float32Array | null;
  readonly cTs: Float32Array | null;
  /** Per-context weight (null = 1). */
  readonly ctxW: Float64Array | null;
  /** Per-entity row-side denominator factor (n^α), column-side factor (n^β), norm n, centring term q. */
  readonly pa: Float64Array;
  readonly pb: Float64Array;
  readonly norm: Float64Array;
  readonly q: Float64Array | null;
  /** 0 dot family (cooccurrence/cosine/pearson), 1 euclidean, 2 jaccard. */
  readonly family: number;
  readonly cooccurrence: boolean;
  readonly alpha: number;
  readonly weightNorms: boolean;
  /** Explicit pearson: values are centred on each entity's stored mean. */
  readonly centreStored: boolean;
  readonly shrink: number;
  /** ln2 / halfLife, 0 = no pair decay. */
  readonly lambda: number;
  readonly neighbors: number;
  /** 0 none, 1 max, 2 sum. */
  readonly rowNorm: number;
}

/** Rows computed by one worker: which chunks, where each starts in its buffers, and the buffers. */
export interface BuiltChunks {
  readonly chunks: Int32Array;
  readonly starts: Int32Array;
  readonly indices: Int32Array;
  readonly scores: Float32Array;
}

/** Entry points run below this much work (Σ multiply-adds) stay in-process: a worker costs ~0.1–0.3 s to start. */
export const PARALLEL_MIN_WORK = 200_000;

/** Copies a typed array into a SharedArrayBuffer (workers then share it instead of cloning). */
export function shared<T extends Int32Array | Float32Array | Float64Array>(a: T): T {
  const C = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new C(new SharedArrayBuffer(a.byteLength));
  (out as unknown as { set(x: ArrayLike<number>): void }).set(a);
  return out;
}

function sharedZeros<T extends Int32Array | Float32Array | Float64Array>(
  C: new (b: SharedArrayBuffer) => T,
  n: number,
  bytes: number,
): T {
  return new C(new SharedArrayBuffer(Math.max(1, n) * bytes));
}

/**
 * Prepares the kernel input from the context → entity matrix `a` (values: null = implicit 1)
 * and optional per-entry times `ts` (same structure as `a`). O(nnz); allocates shared copies.
 */
export function prepareSimilarity(a: Csr, ts: Float32Array | null, spec: SimilaritySpec): SimInput {
  const nCtx = a.nRows;
  const nRows = a.nCols;
  const measure = spec.measure;
  // Context weights from context sizes |c| (number of stored entities).
  let ctxW: Float64Array | null = null;
  if (spec.contextWeight !== "none") {
    ctxW = new Float64Array(nCtx);
    const g = spec.contextWeightPower;
    for (let c = 0; c < nCtx; c++) {
      const n = a.offsets[c + 1] - a.offsets[c];
      if (n === 0) continue;
      ctxW[c] = spec.contextWeight === "inverse" ? n ** -g : (1 / Math.log1p(n)) ** g;
    }
  }
  // Preprocess values (context-major): binarise for jaccard, centre for explicit pearson.
  let vals: Float32Array | null = measure === "jaccard" ? null : a.values;
  const centreAll = measure === "pearson" && vals === null;
  if (measure === "pearson" && vals !== null) {
    const sum = new Float64Array(nRows);
    const cnt = new Float64Array(nRows);
    for (let e = 0; e < a.indices.length; e++) {
      sum[a.indices[e]] += vals[e];
      cnt[a.indices[e]]++;
    }
    const centred = new Float32Array(vals.length);
    for (let e = 0; e < vals.length; e++) {
      const j = a.indices[e];
      centred[e] = vals[e] - sum[j] / cnt[j];
    }
    vals = centred;
  }
  // Per-entity norm n = Σ_c (w_c) v² (jaccard: support size), and the centring sums s = Σ_c w_c v.
  const norm = new Float64Array(nRows);
  const s = centreAll ? new Float64Array(nRows) : null;
  let wTotal = 0;
  for (let c = 0; c < nCtx; c++) {
    const wc = ctxW === null ? 1 : ctxW[c];
    wTotal += wc;
    const wn = spec.weightNorms || centreAll ? wc : 1;
    for (let e = a.offsets[c]; e < a.offsets[c + 1]; e++) {
      const v = vals === null ? 1 : vals[e];
      norm[a.indices[e]] += wn * v * v;
      if (s !== null) s[a.indices[e]] += wc * v;
    }
  }
  let q: Float64Array | null = null;
  if (s !== null) {
    // cov = dot − s_x s_j / W = dot − q_x q_j;  var = n − s² / W.
    q = new Float64Array(nRows);
    const r = wTotal > 0 ? 1 / Math.sqrt(wTotal) : 0;
    for (let j = 0; j < nRows; j++) {
      q[j] = s[j] * r;
      norm[j] = Math.max(0, norm[j] - q[j] * q[j]);
    }
  }
  const pa = new Float64Array(nRows);
  const pb = new Float64Array(nRows);
  const dotFamily = measure === "cooccurrence" || measure === "cosine" || measure === "pearson";
  for (let j = 0; j < nRows; j++) {
    if (measure === "cooccurrence") {
      pa[j] = 1;
      pb[j] = 1;
    } else {
      pa[j] = norm[j] ** spec.alpha;
      pb[j] = norm[j] ** spec.beta;
    }
  }
  const t = transposeCsr({ nRows: nCtx, nCols: nRows, offsets: a.offsets, indices: a.indices, values: vals });
  const eTs = ts === null ? null : transposeValues(a, ts, t);
  return {
    nRows,
    nCtx,
    eOff: shared(t.offsets),
    eIdx: shared(t.indices),
    eVal: t.values === null ? null : shared(t.values),
    eTs: eTs === null ? null : shared(eTs),
    cOff: shared(a.offsets),
    cIdx: shared(a.indices),
    cVal: vals === null ? null : shared(vals),
    cTs: ts === null ? null : shared(ts),
    ctxW: ctxW === null ? null : shared(ctxW),
    pa: shared(pa),
    pb: shared(pb),
    norm: shared(norm),
    q: q === null ? null : shared(q),
    family: dotFamily ? 0 : measure === "euclidean" ? 1 : 2,
    cooccurrence: measure === "cooccurrence",
    alpha: spec.alpha,
    weightNorms: spec.weightNorms || centreAll,
    centreStored: measure === "pearson" && a.values !== null,
    shrink: measure === "cooccurrence" || measure === "euclidean" ? 0 : spec.shrink,
    lambda: spec.pairHalfLifeSec > 0 && ts !== null ? Math.LN2 / spec.pairHalfLifeSec : 0,
    neighbors: spec.neighbors,
    rowNorm: spec.rowNormalize === "none" ? 0 : spec.rowNormalize === "max" ? 1 : 2,
  };
}

/** Per-entry values of `a` laid out as in its transpose `t` (built by `transposeCsr`, same order). */
function transposeValues(a: Csr, v: Float32Array, t: Csr): Float32Array {
  const pos = t.offsets.slice(0, t.nRows);
  const out = new Float32Array(v.length);
  for (let r = 0; r < a.nRows; r++) {
    for (let e = a.offsets[r]; e < a.offsets[r + 1]; e++) out[pos[a.indices[e]]++] = v[e];
  }
  return out;
}

/** Multiply-adds needed for row x: Σ_{c ∈ contexts(x)} |c|. */
export function rowWork(inp: SimInput, x: number): number {
  let w = 0;
  for (let e = inp.eOff[x]; e < inp.eOff[x + 1]; e++) {
    const c = inp.eIdx[e];
    w += inp.cOff[c + 1] - inp.cOff[c];
  }
  return w;
}

/** Splits `rows` into contiguous chunks of about `target` work each; returns chunk bounds (indices into rows). */
export function chunkRows(
  inp: SimInput,
  rows: Int32Array,
  target: number,
): { bounds: Int32Array; work: number } {
  const b: number[] = [0];
  let acc = 0;
  let total = 0;
  for (let r = 0; r < rows.length; r++) {
    const w = rowWork(inp, rows[r]) + 1;
    acc += w;
    total += w;
    if (acc >= target) {
      b.push(r + 1);
      acc = 0;
    }
  }
  if (b[b.length - 1] !== rows.length) b.push(rows.length);
  return { bounds: Int32Array.from(b), work: total };
}

/** Growable output buffers of one worker (doubling; rows are appended whole). */
class RowSink {
  indices = new Int32Array(1 << 16);
  scores = new Float32Array(1 << 16);
  length = 0;
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.indices.length) return;
    let cap = this.indices.length;
    while (cap < need) cap *= 2;
    const i = new Int32Array(cap);
    i.set(this.indices.subarray(0, this.length));
    const s = new Float32Array(cap);
    s.set(this.scores.subarray(0, this.length));
    this.indices = i;
    this.scores = s;
  }
}

/** Per-worker scratch, sized once: dense accumulator, first-touch stamps, touched list (20·n bytes + 12·n). */
export class SimScratch {
  readonly acc: Float64Array;
  readonly stamp: Int32Array;
  readonly touched: Int32Array;
  /** Candidate scores for the K-th-largest selection, and ids tied at the cut. */
  readonly vals: Float64Array;
  readonly ties: Int32Array;
  constructor(nRows: number) {
    this.acc = new Float64Array(nRows);
    this.stamp = new Int32Array(nRows);
    this.touched = new Int32Array(nRows);
    this.vals = new Float64Array(nRows);
    this.ties = new Int32Array(nRows);
  }
}

/**
 * Computes similarity rows for rows[bounds[c] .. bounds[c+1]) of every chunk c taken from the
 * shared counter `next` (Atomics), writing row lengths into `counts[row]`. The same function runs
 * in-process (`workers: 0`) and inside each worker, so results do not depend on the split.
 */
export function buildChunks(
  inp: SimInput,
  rows: Int32Array,
  bounds: Int32Array,
  next: Int32Array,
  counts: Int32Array,
): BuiltChunks {
  const sc = new SimScratch(inp.nRows);
  const sink = new RowSink();
  const chunks: number[] = [];
  const starts: number[] = [];
  const nChunks = bounds.length - 1;
  for (;;) {
    const c = Atomics.add(next, 0, 1);
    if (c >= nChunks) break;
    chunks.push(c);
    starts.push(sink.length);
    for (let r = bounds[c]; r < bounds[c + 1]; r++) {
      const x = rows[r];
      counts[x] = similarityRowInto(inp, x, sc, sink);
    }
  }
  return {
    chunks: Int32Array.from(chunks),
    starts: Int32Array.from(starts),
    indices: sink.indices.slice(0, sink.length),
    scores: sink.scores.slice(0, sink.length),
  };
}

/**
 * One row of S: r_x[j] = Σ_{c ∋ x} w_c · v_cx · v_cj · decay(|t_cx − t_cj|) accumulated densely
 * over the touched columns, then finalised per measure, pruned and appended. Returns the row length.
 */
function similarityRowInto(inp: SimInput, x: number, sc: SimScratch, sink: RowSink): number {
  const { eOff, eIdx, eVal, eTs, cOff, cIdx, cVal, cTs, ctxW, lambda } = inp;
  const acc = sc.acc;
  const stamp = sc.stamp;
  const touched = sc.touched;
  const mark = x + 1;
  let nt = 0;
  // Accumulate: walk the contexts of x, then their entities (Schelter's row-wise AᵀA).
  for (let e = eOff[x]; e < eOff[x + 1]; e++) {
    const c = eIdx[e];
    let wx = ctxW === null ? 1 : ctxW[c];
    if (eVal !== null) wx *= eVal[e];
    const f1 = cOff[c + 1];
    if (lambda > 0) {
      const tx = (eTs as Float32Array)[e];
      const cts = cTs as Float32Array;
      for (let f = cOff[c]; f < f1; f++) {
        const j = cIdx[f];
        if (stamp[j] !== mark) {
          stamp[j] = mark;
          acc[j] = 0;
          touched[nt++] = j;
        }
        acc[j] += wx * (cVal === null ? 1 : cVal[f]) * Math.exp(-lambda * Math.abs(tx - cts[f]));
      }
    } else if (cVal === null) {
      for (let f = cOff[c]; f < f1; f++) {
        const j = cIdx[f];
        if (stamp[j] !== mark) {
          stamp[j] = mark;
          acc[j] = 0;
          touched[nt++] = j;
        }
        acc[j] += wx;
      }
    } else {
      for (let f = cOff[c]; f < f1; f++) {
        const j = cIdx[f];
        if (stamp[j] !== mark) {
          stamp[j] = mark;
          acc[j] = 0;
          touched[nt++] = j;
        }
        acc[j] += wx * cVal[f];
      }
    }
  }
  // Finalise in place: acc[j] ← similarity(x, j); non-positive (and NaN) scores become −1.
  const { pa, pb, norm, q, shrink, family } = inp;
  if (family === 0) {
    const ax = pa[x];
    const qx = q === null ? 0 : q[x];
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      const num = q === null ? acc[j] : acc[j] - qx * q[j];
      const s = num / (ax * pb[j] + shrink);
      acc[j] = s > 0 && s !== Number.POSITIVE_INFINITY ? s : -1;
    }
  } else if (family === 1) {
    const nx = norm[x];
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      acc[j] = 1 / (1 + Math.sqrt(Math.max(0, nx + norm[j] - 2 * acc[j])));
    }
  } else {
    const nx = norm[x];
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      const s = acc[j] / (nx + norm[j] - acc[j] + shrink);
      acc[j] = s > 0 ? s : -1;
    }
  }
  // Select: every positive entry but x itself, or, when more than K, the K best: quickselect the
  // K-th largest score (O(nt)), keep everything above it and the smallest ids among its ties.
  const K = inp.neighbors;
  const vals = sc.vals;
  let nPos = 0;
  for (let t = 0; t < nt; t++) {
    const j = touched[t];
    if (j === x) acc[j] = -1;
    else if (acc[j] >= 0) vals[nPos++] = acc[j];
  }
  sink.reserve(K > 0 ? Math.min(K, nPos) : nPos);
  const base = sink.length;
  let len = 0;
  if (K > 0 && nPos > K) {
    const kth = selectKthLargest(vals, nPos, K);
    let ties = 0;
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      const v = acc[j];
      if (v > kth) {
        sink.indices[base + len] = j;
        sink.scores[base + len] = v;
        len++;
      } else if (v === kth) sc.ties[ties++] = j;
    }
    if (ties > K - len) sc.ties.subarray(0, ties).sort();
    for (let t = 0; len < K; t++) {
      sink.indices[base + len] = sc.ties[t];
      sink.scores[base + len] = kth;
      len++;
    }
  } else {
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      const v = acc[j];
      if (v < 0) continue;
      sink.indices[base + len] = j;
      sink.scores[base + len] = v;
      len++;
    }
  }
  if (inp.rowNorm !== 0 && len > 0) {
    let d = 0;
    for (let t = 0; t < len; t++) {
      const s = sink.scores[base + t];
      d = inp.rowNorm === 1 ? Math.max(d, s) : d + s;
    }
    for (let t = 0; t < len; t++) sink.scores[base + t] = sink.scores[base + t] / d;
  }
  sink.length += len;
  return len;
}

/**
 * The K-th largest of vals[0..n) (1 ≤ K ≤ n), by in-place Hoare quickselect with a
 * median-of-three pivot (deterministic). Reorders vals.
 */
export function selectKthLargest(vals: Float64Array, n: number, K: number): number {
  // K-th largest = element of rank n − K in ascending order.
  const target = n - K;
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    let a = vals[lo];
    let b = vals[mid];
    const c = vals[hi];
    if (a > b) {
      const t = a;
      a = b;
      b = t;
    }
    if (b > c) {
      b = c;
      if (a > b) b = a;
    }
    const pivot = b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (vals[i] < pivot) i++;
      while (vals[j] > pivot) j--;
      if (i <= j) {
        const t = vals[i];
        vals[i] = vals[j];
        vals[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return vals[target];
  }
  return vals[target];
}

/**
 * Computes rows `rows` of S (all rows when null) with `workers` threads (0 = in-process) and
 * returns them with their lengths. Peak memory: per thread 20·nRows bytes of scratch plus its
 * output (≤ 8·K bytes per row pruned, 8·nnz(row) unpruned), then one assembly copy.
 */
export async function computeRows(
  inp: SimInput,
  rows: Int32Array,
  workers: number,
): Promise<{ counts: Int32Array; parts: BuiltChunks[]; bounds: Int32Array }> {
  const nW = Math.max(0, workers);
  // ~16 chunks per thread: dynamic scheduling absorbs uneven rows and a busy core.
  const total = chunkRows(inp, rows, Number.POSITIVE_INFINITY).work;
  const { bounds } = chunkRows(inp, rows, Math.max(1, total / (Math.max(1, nW) * 16)));
  const counts = sharedZeros(Int32Array, inp.nRows, 4);
  const next = sharedZeros(Int32Array, 1, 4);
  if (nW === 0 || total < PARALLEL_MIN_WORK) {
    return { counts, parts: [buildChunks(inp, rows, bounds, next, counts)], bounds };
  }
  const sRows = shared(rows);
  const sBounds = shared(bounds);
  const parts = await runTasks<BuiltChunks>(workerUrl("./similarity.worker", import.meta.url), nW, () => ({
    task: "build",
    inp,
    rows: sRows,
    bounds: sBounds,
    next,
    counts,
  }));
  return { counts, parts, bounds };
}

/** Full build: every row of S. */
export async function buildSimilarity(inp: SimInput, workers: number): Promise<NeighborRows> {
  const rows = Int32Array.from({ length: inp.nRows }, (_, i) => i);
  const { counts, parts, bounds } = await computeRows(inp, rows, workers);
  return assemble(inp.nRows, rows, bounds, counts, parts, null);
}

/**
 * Rebuilds the rows `rows` (ascending) of `old` and copies the others: the incremental path. The
 * cost is the recomputed rows' work plus one O(nnz(S)) copy.
 */
export async function updateSimilarity(
  inp: SimInput,
  old: NeighborRows,
  rows: Int32Array,
  workers: number,
): Promise<NeighborRows> {
  const { counts, parts, bounds } = await computeRows(inp, rows, workers);
  return assemble(inp.nRows, rows, bounds, counts, parts, old);
}

function assemble(
  nRows: number,
  rows: Int32Array,
  bounds: Int32Array,
  counts: Int32Array,
  parts: BuiltChunks[],
  old: NeighborRows | null,
): NeighborRows {
  const fresh = new Uint8Array(nRows);
  for (let r = 0; r < rows.length; r++) fresh[rows[r]] = 1;
  const offsets = sharedZeros(Int32Array, nRows + 1, 4);
  for (let x = 0; x < nRows; x++) {
    const len =
      fresh[x] === 1 ? counts[x] : old !== null && x < old.nRows ? old.offsets[x + 1] - old.offsets[x] : 0;
    offsets[x + 1] = offsets[x] + len;
  }
  const nnz = offsets[nRows];
  const indices = sharedZeros(Int32Array, nnz, 4);
  const scores = sharedZeros(Float32Array, nnz, 4);
  if (old !== null) {
    for (let x = 0; x < Math.min(nRows, old.nRows); x++) {
      if (fresh[x] === 1) continue;
      const a = old.offsets[x];
      const b = old.offsets[x + 1];
      indices.set(old.indices.subarray(a, b), offsets[x]);
      scores.set(old.scores.subarray(a, b), offsets[x]);
    }
  }
  for (const p of parts) {
    for (let t = 0; t < p.chunks.length; t++) {
      const c = p.chunks[t];
      let src = p.starts[t];
      for (let r = bounds[c]; r < bounds[c + 1]; r++) {
        const x = rows[r];
        const len = counts[x];
        indices.set(p.indices.subarray(src, src + len), offsets[x]);
        scores.set(p.scores.subarray(src, src + len), offsets[x]);
        src += len;
      }
    }
  }
  return { nRows, nCols: nRows, offsets, indices, scores };
}

/**
 * Entities whose rows change when the entities `changedEntities` and contexts `changedContexts`
 * receive new interactions (a full-rebuild-equivalent set): every entity co-occurring with an
 * entity whose norm changed. Norms change for the entities with new interactions, and, with
 * weighted norms and context weights, for every entity of a changed context. Returns ascending ids.
 */
export function affectedRows(
  inp: SimInput,
  changedEntities: Uint8Array,
  changedContexts: Uint8Array,
  weightNorms: boolean,
): Int32Array {
  const statChanged = changedEntities.slice();
  if (weightNorms && inp.ctxW !== null) {
    for (let c = 0; c < inp.nCtx; c++) {
      if (changedContexts[c] !== 1) continue;
      for (let f = inp.cOff[c]; f < inp.cOff[c + 1]; f++) statChanged[inp.cIdx[f]] = 1;
    }
  }
  const ctxHit = new Uint8Array(inp.nCtx);
  for (let x = 0; x < inp.nRows; x++) {
    if (statChanged[x] !== 1) continue;
    for (let e = inp.eOff[x]; e < inp.eOff[x + 1]; e++) ctxHit[inp.eIdx[e]] = 1;
  }
  const hit = statChanged;
  for (let c = 0; c < inp.nCtx; c++) {
    if (ctxHit[c] !== 1) continue;
    for (let f = inp.cOff[c]; f < inp.cOff[c + 1]; f++) hit[inp.cIdx[f]] = 1;
  }
  const out: number[] = [];
  for (let x = 0; x < inp.nRows; x++) if (hit[x] === 1) out.push(x);
  return Int32Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// Scoring: out_q = P[q,:] · M (sparse row × sparse matrix), masked, top-k. ItemCF: P = A (user
// rows), M = S. UserCF: P = S_user, M = A.

/** Shared inputs of the scoring kernel. */
export interface ScoreInput {
  readonly nOut: number;
  readonly pOff: Int32Array;
  readonly pIdx: Int32Array;
  readonly pVal: Float32Array | null;
  readonly mOff: Int32Array;
  readonly mIdx: Int32Array;
  readonly mVal: Float32Array | null;
  /** Row q of the mask (sorted or not) leaves those columns out; null = no mask. */
  readonly xOff: Int32Array | null;
  readonly xIdx: Int32Array | null;
}

/** Scratch for scoring one query row at a time. */
export class ScoreScratch {
  readonly acc: Float64Array;
  readonly stamp: Int32Array;
  readonly touched: Int32Array;
  readonly heap: TopKHeap;
  readonly drain: TopK;
  gen = 0;
  constructor(nOut: number, k: number) {
    this.acc = new Float64Array(nOut);
    this.stamp = new Int32Array(nOut);
    this.touched = new Int32Array(nOut);
    this.heap = new TopKHeap(k);
    this.drain = new TopK(1, Math.max(1, k));
  }
}

/**
 * r = Σ_{e ∈ P row p} P[p,e] · M[e,:] into the dense accumulator; masks row `x` of the mask;
 * writes the top-k into ids/scores/counts at slot `slot`. Allocation-free.
 */
export function scoreRowInto(
  inp: ScoreInput,
  p: number,
  x: number,
  sc: ScoreScratch,
  ids: Int32Array,
  scores: Float32Array,
  counts: Int32Array,
  slot: number,
): void {
  const { pOff, pIdx, pVal, mOff, mIdx, mVal } = inp;
  const acc = sc.acc;
  const stamp = sc.stamp;
  const touched = sc.touched;
  const mark = ++sc.gen;
  let nt = 0;
  for (let e = pOff[p]; e < pOff[p + 1]; e++) {
    const i = pIdx[e];
    const w = pVal === null ? 1 : pVal[e];
    const f1 = mOff[i + 1];
    if (mVal === null) {
      for (let f = mOff[i]; f < f1; f++) {
        const j = mIdx[f];
        if (stamp[j] !== mark) {
          stamp[j] = mark;
          acc[j] = w;
          touched[nt++] = j;
        } else acc[j] += w;
      }
    } else {
      for (let f = mOff[i]; f < f1; f++) {
        const j = mIdx[f];
        if (stamp[j] !== mark) {
          stamp[j] = mark;
          acc[j] = w * mVal[f];
          touched[nt++] = j;
        } else acc[j] += w * mVal[f];
      }
    }
  }
  // Mask: seen columns drop out of the candidates (they are only ever touched columns).
  if (inp.xOff !== null && x >= 0 && x + 1 < inp.xOff.length) {
    const xIdx = inp.xIdx as Int32Array;
    for (let f = inp.xOff[x]; f < inp.xOff[x + 1]; f++) {
      const j = xIdx[f];
      if (j < acc.length && stamp[j] === mark) acc[j] = Number.NEGATIVE_INFINITY;
    }
  }
  const heap = sc.heap;
  const k = heap.k;
  heap.reset();
  let thr = Number.NEGATIVE_INFINITY;
  for (let t = 0; t < nt; t++) {
    const j = touched[t];
    const s = acc[j];
    if (s === Number.NEGATIVE_INFINITY || s < thr) continue;
    heap.push(s, j);
    thr = heap.threshold();
  }
  // Drain best-first into the caller's row (heap pops worst first).
  const n = heap.size;
  const base = slot * k;
  const tmp = sc.drain;
  heap.drainInto(tmp, 0);
  for (let t = 0; t < n; t++) {
    ids[base + t] = tmp.ids[t];
    scores[base + t] = tmp.scores[t];
  }
  counts[slot] = n;
}

/**
 * Runs the scoring kernel for queries[c*chunk ..] taken from the shared counter `next`, writing
 * into shared ids/scores/counts (row q ↔ slot q). Same function in-process and in workers.
 */
export function scoreChunks(
  inp: ScoreInput,
  queries: Int32Array,
  maskRows: Int32Array,
  k: number,
  chunk: number,
  next: Int32Array,
  ids: Int32Array,
  scores: Float32Array,
  counts: Int32Array,
): void {
  const sc = new ScoreScratch(inp.nOut, k);
  const nChunks = Math.ceil(queries.length / chunk);
  for (;;) {
    const c = Atomics.add(next, 0, 1);
    if (c >= nChunks) break;
    const end = Math.min(queries.length, (c + 1) * chunk);
    for (let q = c * chunk; q < end; q++)
      scoreRowInto(inp, queries[q], maskRows[q], sc, ids, scores, counts, q);
  }
}

/**
 * Top-k of P[queries[q],:] · M for every q, masking row maskRows[q] of the mask, over `workers`
 * threads when the batch is large (results do not depend on the split).
 */
export async function scoreRows(
  inp: ScoreInput,
  queries: Int32Array,
  maskRows: Int32Array,
  k: number,
  workers: number,
): Promise<TopK> {
  const n = queries.length;
  const ids = sharedZeros(Int32Array, n * k, 4);
  const scores = sharedZeros(Float32Array, n * k, 4);
  const counts = sharedZeros(Int32Array, n, 4);
  const next = sharedZeros(Int32Array, 1, 4);
  let work = 0;
  for (let q = 0; q < n && work < PARALLEL_MIN_WORK; q++) {
    const p = queries[q];
    for (let e = inp.pOff[p]; e < inp.pOff[p + 1]; e++)
      work += inp.mOff[inp.pIdx[e] + 1] - inp.mOff[inp.pIdx[e]];
  }
  const chunk = Math.max(16, Math.min(1024, Math.ceil(n / (Math.max(1, workers) * 16))));
  if (workers <= 0 || work < PARALLEL_MIN_WORK || n < 64) {
    scoreChunks(inp, queries, maskRows, k, chunk, next, ids, scores, counts);
  } else {
    await runTasks<boolean>(workerUrl("./similarity.worker", import.meta.url), workers, () => ({
      task: "score",
      inp,
      queries: shared(queries),
      maskRows: shared(maskRows),
      k,
      chunk,
      next,
      ids,
      scores,
      counts,
    }));
  }
  return toTopK(n, k, ids, scores, counts);
}

/** Copies shared result buffers into a fresh `TopK` (unfilled slots keep −1 / −∞). */
export function toTopK(
  n: number,
  k: number,
  ids: Int32Array,
  scores: Float32Array,
  counts: Int32Array,
): TopK {
  const out = new TopK(n, k);
  for (let q = 0; q < n; q++) {
    const c = counts[q];
    out.counts[q] = c;
    for (let t = 0; t < c; t++) {
      out.ids[q * k + t] = ids[q * k + t];
      out.scores[q * k + t] = scores[q * k + t];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Interaction state shared by ItemCF and UserCF: the user × item matrix, its per-entry times, and
// the merge that partialFit uses.

/** User × item matrix with optional per-entry times (newest event of the pair, seconds). */
export interface InteractionState {
  readonly a: Csr;
  readonly ts: Float64Array | null;
}

/**
 * Builds (or extends, when `prev` is given) the user × item state from an interaction log:
 * implicit values are binary; explicit ones combine repeats with `duplicates`; times keep the
 * newest. Merging is exactly "fit on the concatenated logs". O((nnz + new) log row).
 */
export function mergeInteractions(
  prev: InteractionState | null,
  log: Interactions,
  nUsers: number,
  nItems: number,
  explicit: boolean,
  duplicates: Duplicates,
  withTs: boolean,
): InteractionState {
  const nOld = prev === null ? 0 : prev.a.indices.length;
  const n = nOld + log.length;
  const rows = new Int32Array(n);
  const cols = new Int32Array(n);
  const vals = explicit ? new Float32Array(n) : null;
  if (prev !== null) {
    const a = prev.a;
    for (let u = 0; u < a.nRows; u++) rows.fill(u, a.offsets[u], a.offsets[u + 1]);
    cols.set(a.indices);
    if (vals !== null) vals.set(a.values ?? new Float32Array(nOld).fill(1));
  }
  rows.set(log.users, nOld);
  cols.set(log.items, nOld);
  if (vals !== null) {
    if (log.weights === null) vals.fill(1, nOld);
    else vals.set(log.weights, nOld);
  }
  const a = buildCsr(nUsers, nItems, rows, cols, vals, explicit ? duplicates : "one");
  let ts: Float64Array | null = null;
  if (withTs && (log.ts !== null || prev?.ts != null)) {
    ts = new Float64Array(a.indices.length).fill(Number.NEGATIVE_INFINITY);
    const put = (u: number, i: number, t: number) => {
      const e = findInRow(a, u, i);
      if (t > ts![e]) ts![e] = t;
    };
    if (prev?.ts != null) {
      const pa = prev.a;
      for (let u = 0; u < pa.nRows; u++)
        for (let e = pa.offsets[u]; e < pa.offsets[u + 1]; e++) put(u, pa.indices[e], prev.ts[e]);
    }
    if (log.ts !== null) for (let e = 0; e < log.length; e++) put(log.users[e], log.items[e], log.ts[e]);
    for (let e = 0; e < ts.length; e++) if (ts[e] === Number.NEGATIVE_INFINITY) ts[e] = 0;
  }
  return { a, ts };
}

/** Position of column c in sorted row r (binary search); −1 when absent. */
function findInRow(a: Csr, r: number, c: number): number {
  let lo = a.offsets[r];
  let hi = a.offsets[r + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a.indices[mid];
    if (v === c) return mid;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Times relative to their minimum as float32 (the kernel only uses differences). */
export function relativeTimes(ts: Float64Array | null): Float32Array | null {
  if (ts === null) return null;
  let t0 = Number.POSITIVE_INFINITY;
  for (let e = 0; e < ts.length; e++) if (ts[e] < t0) t0 = ts[e];
  const out = new Float32Array(ts.length);
  for (let e = 0; e < ts.length; e++) out[e] = ts[e] - t0;
  return out;
}

/**
 * Prediction-side history weights: each stored value (1 when implicit) times
 * 2^(−(newest_u − t)/halfLife), newest_u being the user's latest interaction. Null when neither
 * explicit values nor decay apply (all ones).
 */
export function historyWeights(st: InteractionState, halfLifeSec: number): Float32Array | null {
  const a = st.a;
  if (halfLifeSec <= 0 || st.ts === null) return a.values;
  const ts = st.ts;
  const lam = Math.LN2 / halfLifeSec;
  const out = new Float32Array(a.indices.length);
  for (let u = 0; u < a.nRows; u++) {
    let newest = Number.NEGATIVE_INFINITY;
    for (let e = a.offsets[u]; e < a.offsets[u + 1]; e++) newest = Math.max(newest, ts[e]);
    for (let e = a.offsets[u]; e < a.offsets[u + 1]; e++) {
      out[e] = (a.values === null ? 1 : a.values[e]) * Math.exp(-lam * (newest - ts[e]));
    }
  }
  return out;
}

/**
 * One similarity row for an outside vector (a user known only by a few items, for UserCF):
 * entries (ctx[t], val[t]) over contexts, scored against every entity exactly as a row of S
 * (same measure, weights and exponents; no pair decay). Returns the pruned row (ids, scores).
 */
export function similarityToVector(
  inp: SimInput,
  ctx: Int32Array,
  val: Float32Array | null,
): { ids: Int32Array; scores: Float32Array } {
  const acc = new Float64Array(inp.nRows);
  const seen = new Uint8Array(inp.nRows);
  const touched: number[] = [];
  let nx = 0;
  let sx = 0;
  let mean = 0;
  if (inp.centreStored && val !== null && val.length > 0) {
    for (let t = 0; t < val.length; t++) mean += val[t];
    mean /= val.length;
  }
  for (let t = 0; t < ctx.length; t++) {
    const c = ctx[t];
    if (c < 0 || c >= inp.nCtx) continue;
    const wc = inp.ctxW === null ? 1 : inp.ctxW[c];
    const v = inp.family === 2 || val === null ? 1 : val[t] - mean;
    nx += (inp.weightNorms ? wc : 1) * v * v;
    sx += wc * v;
    for (let f = inp.cOff[c]; f < inp.cOff[c + 1]; f++) {
      const j = inp.cIdx[f];
      if (seen[j] === 0) {
        seen[j] = 1;
        touched.push(j);
      }
      acc[j] += wc * v * (inp.cVal === null ? 1 : inp.cVal[f]);
    }
  }
  const K = inp.neighbors > 0 ? inp.neighbors : touched.length;
  const heap = new TopKHeap(Math.max(1, K));
  let qx = 0;
  if (inp.q !== null) {
    let w = 0;
    for (let c = 0; c < inp.nCtx; c++) w += inp.ctxW === null ? 1 : inp.ctxW[c];
    qx = w > 0 ? sx / Math.sqrt(w) : 0;
    nx = Math.max(0, nx - qx * qx);
  }
  const ax = inp.cooccurrence ? 1 : nx ** inp.alpha;
  for (const j of touched) {
    let s: number;
    if (inp.family === 0) s = (acc[j] - (inp.q === null ? 0 : qx * inp.q[j])) / (ax * inp.pb[j] + inp.shrink);
    else if (inp.family === 1) s = 1 / (1 + Math.sqrt(Math.max(0, nx + inp.norm[j] - 2 * acc[j])));
    else s = acc[j] / (nx + inp.norm[j] - acc[j] + inp.shrink);
    if (s > 0 && s !== Number.POSITIVE_INFINITY) heap.push(s, j);
  }
  const row = new TopK(1, Math.max(1, K));
  heap.drainInto(row, 0);
  return row.row(0);
}

/** `n` workers on one shared task; resolves with each one's first message, in worker order. */
async function runTasks<T>(url: URL, n: number, data: () => unknown): Promise<T[]> {
  const workers: Worker[] = [];
  try {
    return await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const w = startWorker(url, data());
        workers.push(w);
        return new Promise<T>((resolve, reject) => {
          w.once("message", (m: T) => resolve(m));
          w.once("error", reject);
          w.once("exit", (code) => {
            if (code !== 0) reject(new Error(`similarity worker ${i} exited with code ${code}`));
          });
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
