/**
 * HNSW (Malkov & Yashunin 2018) through `hnswlib-node` 3.0.0 (hnswlib 0.8 compiled from the
 * package's bundled source at install).
 *
 * ## Why hnswlib-node, not usearch (measured on this 2-core shared machine, noisy ±30%)
 * Data: ALS item factors on Gowalla (40,981 × 64, src/recall/als.ts, 15 iterations), queries =
 * 2,000 ALS user vectors, k = 20, recall@20 against exact inner product.
 * - Per-search `ef` and a native filter: hnswlib-node has `setEf` and a `searchKnn` filter
 *   callback. usearch's JS binding (2.25) fixes `expansion_search` when the index is constructed
 *   and takes no filter, so per-call `ef` means one index object per ef, and filtering means
 *   over-fetching blind.
 * - Single-query speed, raw IP, M 16, efC 200, ef 64 (same recall, 0.60 vs 0.62): hnswlib-node
 *   17,400 q/s, usearch 9,200 (batch of 2,000 on 1 thread 7,800; 2 threads 13,200). Build
 *   (1 thread): 4.5 s vs 6.1 s. DESIGN §6's probe on random vectors agrees (7,300 vs 3,000 q/s).
 * - usearch's strengths (multi-threaded batch search and build, flat typed-array input) buy
 *   little on 2 shared cores; hnswlib-node's costs (a JS number[] per call, one thread, a
 *   node-gyp build at install) are small at dim 64.
 *
 * ## Inner product goes through the MIPS → nearest-neighbour reduction
 * ALS factors are not normalised (item norms span 0.004 … 0.30) and HNSW built on raw inner
 * product plateaus: recall@20 stopped at 0.65 (hnswlib-node, ef 256), 0.65 (usearch) and 0.71
 * (FAISS IndexHNSWFlat IP, Debian 1.7.3, ef 1024) on the vectors above. So for metric "ip" each
 * item x is stored as x' = [x, √(Φ − ‖x‖²)] with Φ = max ‖x‖², and a query as q' = [q, 0]
 * (Bachrach et al. 2014). Then ‖q' − x'‖² = ‖q‖² + Φ − 2 q·x, so L2 order on the augmented
 * vectors is exactly inner-product order, and the graph is built in a true metric space. This
 * lifted recall@20 to 0.94 at ef 256 (efC 200) and 0.98 (efC 500) on the same data. An `add` whose
 * vectors exceed the current Φ rebuilds the graph from the stored vectors (the cost of a build):
 * add the largest batch first. Cosine stores normalised vectors in hnswlib's "ip" space; l2 uses
 * its "l2" space.
 *
 * The reduction leaves most items near the pole [0, √Φ] (ALS norms² span a factor of ~5,000) and
 * the few large-norm items, which hold most true answers (half of the exact top-20 lies in the
 * 1.5% largest norms), are the ones greedy search misses. So each ip query also scores the
 * `mipsHead` fraction (default 1%) of largest-norm items exactly and merges them in: on 2,000
 * structured vectors recall@10 at ef 50 went 0.89 → 0.98, at ef 200 0.96 → 0.996 (ef 1000 without
 * it: 0.986). Norm-range partitioning (Yan et al. 2018, 2 or 4 sub-graphs) gained less per
 * query in a probe.
 *
 * ## Figures (bench/suites/ann.ts, ALS/Gowalla, 2,000 user queries, k 20, 1 thread, noisy)
 *   index                         build   ef    recall@20  single q/s
 *   ours HNSW16,efC=200 head 1%    7.1 s  128   0.946      5,100
 *                                          256   0.977      3,100
 *                                          512   0.995      1,300
 *   ours, head 0                  10.6 s  256   0.940      3,400
 *   ours HNSW16,efC=400 head 1%   18.1 s  128   0.965      4,900
 *   FAISS HNSWFlat IP (Debian)    17.2 s  256   0.719      2,500   (plateau 0.728 at ef 1024)
 *   hnswlib (Python, Debian)       5.7 s  256   0.644      7,800   (plateau 0.650)
 *   exact: FAISS FlatIP 4,900 q/s; our BruteForceIndex 470 q/s (batch), 190 (single).
 *
 * ## Scores, ids, filters
 * The graph's labels are our rows; results are rescored exactly from the JS copy of the vectors
 * (k·dim flops) so scores equal `BruteForceIndex`'s and ties break the same way (earlier row).
 * Exclusion strategy:
 * - a list of ids (seen items): over-fetch k + |list| in one search and drop the listed ones;
 *   at most |list| results can fail, so one search always suffices (no growing loop needed);
 * - a predicate (business rule, unknown pass rate): hnswlib's own filter (`isIdAllowed`), which
 *   keeps walking the graph until k allowed items are found or the ef-bounded frontier is
 *   exhausted; it calls back into JS per candidate (see bench/suites/ann.ts for the cost).
 * Batch search is a loop of single searches on this thread: the native index cannot be shared
 * with worker threads, and a copy per worker doubles memory.
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { assert, RecallkitError } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import { dot } from "../math/blas.ts";
import { type TopK, TopKHeap } from "../math/topk.ts";
import type { AnnIndex, BatchSearchOptions, Metric } from "./ann-index.ts";
import { rowsToIdsInto } from "./brute-force.ts";
import { formatSpec, HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_DEFAULT_EF_SEARCH, parseSpec } from "./spec.ts";
import {
  checkDim,
  checkK,
  checkMetric,
  checkOut,
  checkQueries,
  ExclusionPlan,
  SearchForms,
  VectorStore,
} from "./store.ts";

export const HNSW_ARTIFACT_TYPE = "ann/hnsw";
const NATIVE_FILE = "hnsw.bin";
const LIBRARY = "hnswlib-node@3.0.0";

/** The part of hnswlib-node's `HierarchicalNSW` used here. */
interface NativeHnsw {
  initIndex(maxElements: number, m?: number, efConstruction?: number, randomSeed?: number): void;
  readIndex(filename: string): Promise<boolean>;
  writeIndexSync(filename: string): void;
  resizeIndex(newMaxElements: number): void;
  addPoint(point: number[], label: number): void;
  searchKnn(
    queryPoint: number[],
    numNeighbors: number,
    filter?: (label: number) => boolean,
  ): { distances: number[]; neighbors: number[] };
  getPoint(label: number): number[];
  getMaxElements(): number;
  getCurrentCount(): number;
  setEf(ef: number): void;
}
type NativeCtor = new (space: "l2" | "ip" | "cosine", dim: number) => NativeHnsw;

let nativeCtor: NativeCtor | null = null;

/** Loads the addon on first use, so the exact index works where the native build is missing. */
function hnswlib(): NativeCtor {
  if (nativeCtor === null) {
    try {
      const mod = createRequire(import.meta.url)("hnswlib-node") as { HierarchicalNSW: NativeCtor };
      nativeCtor = mod.HierarchicalNSW;
    } catch (err) {
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `HNSW indexes need the native package hnswlib-node, which failed to load (${(err as Error).message}); ` +
          'run `npm ci` with a C++ toolchain (its install script must be allowed in package.json allowScripts), or use the "Flat" index',
        { cause: err },
      );
    }
  }
  return nativeCtor;
}

export interface HnswOptions {
  /** hnswlib's level-assignment seed. Default 100 (hnswlib's default); same seed, same graph. */
  readonly seed?: number;
  /**
   * Metric "ip" only: the fraction of items with the largest norms that every query also scores
   * exactly (the "norm head", see the top of this file). Default 0.01; 0 turns it off.
   */
  readonly mipsHead?: number;
}

/** Extra results asked of hnswlib beyond k (within ef), so near-ties are settled by exact rescoring. */
const FETCH_SLACK = 8;

export class HnswIndex extends SearchForms implements AnnIndex {
  readonly dim: number;
  readonly metric: Metric;
  readonly m: number;
  readonly efConstruction: number;
  /** Default search breadth (per call: `opts.ef`). */
  readonly ef: number;
  readonly seed: number;
  readonly mipsHead: number;
  private readonly specEfC: number | undefined;
  private readonly specEf: number | undefined;
  private readonly store: VectorStore;
  private native: NativeHnsw | null = null;
  /** Dimension of the native vectors (dim + 1 under ip: the MIPS coordinate). */
  private readonly nativeDim: number;
  /** Φ of the MIPS transform the graph was built with (ip only). */
  private phi = 0;
  private curEf = -1;
  /** Rows of the norm head (largest ‖x‖ first), their flags by row; null = recompute. */
  private headRows: Int32Array | null = null;
  private isHead = new Uint8Array(0);
  /** Reused native-call buffers (hnswlib-node takes JS arrays): a query, a row being added. */
  private readonly qArr: number[];
  private readonly rowArr: number[];

  constructor(
    dim: number,
    metric: Metric,
    spec: { m: number; efConstruction?: number | undefined; ef?: number | undefined },
    opts: HnswOptions = {},
  ) {
    super();
    checkDim(dim);
    checkMetric(metric);
    assert(Number.isInteger(spec.m) && spec.m >= 2, () => `HNSW M must be an integer ≥ 2, got ${spec.m}`);
    this.dim = dim;
    this.metric = metric;
    this.m = spec.m;
    this.specEfC = spec.efConstruction;
    this.specEf = spec.ef;
    this.efConstruction = spec.efConstruction ?? HNSW_DEFAULT_EF_CONSTRUCTION;
    this.ef = spec.ef ?? HNSW_DEFAULT_EF_SEARCH;
    this.seed = opts.seed ?? 100;
    this.mipsHead = metric === "ip" ? (opts.mipsHead ?? 0.01) : 0;
    assert(
      this.mipsHead >= 0 && this.mipsHead <= 1,
      () => `mipsHead must be in [0, 1], got ${this.mipsHead}`,
    );
    this.store = new VectorStore(dim, metric);
    this.nativeDim = metric === "ip" ? dim + 1 : dim;
    this.qArr = new Array<number>(this.nativeDim).fill(0);
    this.rowArr = new Array<number>(this.nativeDim).fill(0);
    hnswlib();
  }

  get spec(): string {
    return formatSpec({ kind: "hnsw", m: this.m, efConstruction: this.specEfC, ef: this.specEf });
  }

  get size(): number {
    return this.store.size;
  }

  add(vectors: Float32Array, ids?: Int32Array): void {
    const st = this.store;
    const row0 = st.append(vectors, ids);
    this.headRows = null;
    if (this.native !== null && this.metric === "ip" && st.maxNorm2 > this.phi) {
      this.native = null; // Φ grew: the augmented coordinates of every row change
    }
    if (this.native === null) {
      this.phi = this.metric === "ip" ? st.maxNorm2 : 0;
      this.native = this.newNative(st.size);
      for (let r = 0; r < st.size; r++) this.addRow(r);
      return;
    }
    if (st.size > this.native.getMaxElements()) {
      this.native.resizeIndex(Math.max(st.size, 2 * this.native.getMaxElements()));
    }
    for (let r = row0; r < st.size; r++) this.addRow(r);
  }

  override searchBatchInto(
    queries: Float32Array,
    n: number,
    k: number,
    out: TopK,
    opts?: BatchSearchOptions,
  ): void {
    checkK(k);
    checkQueries(queries, n, this.dim);
    checkOut(out, n, k);
    const ef = opts?.ef ?? this.ef;
    assert(Number.isInteger(ef) && ef >= 1, () => `ef must be an integer ≥ 1, got ${ef}`);
    const plan = new ExclusionPlan(opts?.exclude, n);
    const st = this.store;
    const native = this.native;
    const dim = this.dim;
    const arr = this.qArr;
    const qbuf = new Float32Array(dim);
    const heap = new TopKHeap(k);
    const mask = st.masked;
    const list = plan.list;
    const pred = plan.pred;
    const ids = st.ids;
    const head = this.head();
    const isHead = this.isHead;
    for (let q = 0; q < n; q++) {
      heap.reset();
      if (native === null || st.size === 0) {
        heap.drainInto(out, q);
        continue;
      }
      const qn2 = st.prepareQueryInto(queries, q, qbuf, 0);
      for (let j = 0; j < dim; j++) arr[j] = qbuf[j];
      // qArr[dim] stays 0 under ip: q' = [q, 0]
      let fetch = k;
      let from = 0;
      let to = 0;
      if (list !== null) {
        from = plan.from(q);
        to = plan.to(q);
        fetch = k + st.markInto(list, from, to, 1);
      }
      fetch = Math.min(st.size, Math.max(fetch, Math.min(ef, fetch + FETCH_SLACK)));
      this.setEf(Math.max(ef, fetch));
      const res =
        pred === null
          ? native.searchKnn(arr, fetch)
          : native.searchKnn(arr, fetch, (row: number) => !pred(ids[row], q));
      const nb = res.neighbors;
      for (let j = 0; j < nb.length; j++) {
        const row = nb[j];
        if (mask[row] === 1 || isHead[row] === 1) continue;
        let s = dot(qbuf, 0, st.data, row * dim, dim);
        if (this.metric === "l2") s = 2 * s - st.norms2[row] - qn2;
        heap.push(s, row);
      }
      // the norm head, scored exactly (ip only; see the top of the file)
      for (let h = 0; h < head.length; h++) {
        const row = head[h];
        const s = dot(qbuf, 0, st.data, row * dim, dim);
        if (!(s > heap.threshold() || (s === heap.threshold() && heap.size === k))) continue;
        if (mask[row] === 1 || pred?.(ids[row], q)) continue;
        heap.push(s, row);
      }
      if (list !== null) st.markInto(list, from, to, 0);
      heap.drainInto(out, q);
      if (!st.identityIds) rowsToIdsInto(out, q, ids);
    }
  }

  /**
   * Artifact: manifest + ids.npy + hnswlib's own file. Everything is staged in a temp sibling
   * directory (writeArtifact, then the native file) and renamed into place, so a crash never
   * leaves a half-written index and the previous one stays until the rename.
   */
  async save(dir: string): Promise<void> {
    const stage = join(dirname(dir), `.${basename(dir)}.hnsw-${process.pid}-${Date.now()}`);
    const old = `${stage}.old`;
    await mkdir(dirname(dir), { recursive: true });
    try {
      await writeArtifact(
        stage,
        {
          type: HNSW_ARTIFACT_TYPE,
          params: {
            spec: this.spec,
            dim: this.dim,
            metric: this.metric,
            seed: this.seed,
            mipsHead: this.mipsHead,
          },
          meta: {
            size: this.size,
            library: LIBRARY,
            nativeFile: NATIVE_FILE,
            nativeDim: this.nativeDim,
            space: this.space(),
            mipsPhi: this.phi,
          },
        },
        { "ids.npy": { npy: this.store.ids.slice(0, this.size), shape: [this.size] } },
      );
      if (this.native !== null) this.native.writeIndexSync(join(stage, NATIVE_FILE));
      let hadOld = false;
      try {
        await rename(dir, old);
        hadOld = true;
      } catch {
        // nothing there yet
      }
      await rename(stage, dir);
      if (hadOld) await rm(old, { recursive: true, force: true });
    } catch (err) {
      await rm(stage, { recursive: true, force: true });
      throw err;
    }
  }

  static async load(dir: string, opts: HnswOptions = {}): Promise<HnswIndex> {
    const a = await readArtifact(dir, HNSW_ARTIFACT_TYPE);
    const p = a.manifest.params as {
      spec: string;
      dim: number;
      metric: Metric;
      seed: number;
      mipsHead: number;
    };
    const meta = a.manifest.meta as { size: number; mipsPhi: number; nativeDim: number };
    const spec = parseSpec(p.spec);
    assert(spec.kind === "hnsw", () => `${dir}: spec "${p.spec}" is not an HNSW spec`, "RK_ERR_ARTIFACT");
    const index = new HnswIndex(p.dim, p.metric, spec, {
      seed: opts.seed ?? p.seed,
      mipsHead: opts.mipsHead ?? p.mipsHead,
    });
    const ids = (await a.npy("ids.npy")).data;
    assert(
      ids instanceof Int32Array && ids.length === meta.size,
      () => `${dir}: ids.npy holds ${ids.length} ids, manifest says ${meta.size}`,
      "RK_ERR_ARTIFACT",
    );
    if (meta.size === 0) return index;
    const file = join(dir, NATIVE_FILE);
    await stat(file).catch((err: unknown) => {
      throw new RecallkitError("RK_ERR_ARTIFACT", `${file}: missing (the HNSW graph of this index)`, {
        cause: err,
      });
    });
    const native = new (hnswlib())(index.space(), index.nativeDim);
    // Async read and a sliced copy below: a service reloading an index keeps answering meanwhile.
    await native.readIndex(file);
    assert(
      native.getCurrentCount() === meta.size,
      () => `${file}: holds ${native.getCurrentCount()} items, manifest says ${meta.size}`,
      "RK_ERR_ARTIFACT",
    );
    // The JS copy of the vectors comes back from the graph file (exact f32 values, cosine rows
    // already normalised), so the artifact does not store the vectors twice.
    const vectors = new Float32Array(meta.size * p.dim);
    for (let r = 0; r < meta.size; r++) {
      const v = native.getPoint(r);
      for (let j = 0; j < p.dim; j++) vectors[r * p.dim + j] = v[j];
      if ((r & 4095) === 4095) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    index.store.append(vectors, ids, true);
    index.native = native;
    index.phi = meta.mipsPhi;
    return index;
  }

  /** The norm-head rows (recomputed after adds): the ⌈mipsHead·size⌉ largest ‖x‖², ties by row. */
  private head(): Int32Array {
    if (this.headRows !== null) return this.headRows;
    const st = this.store;
    const h = Math.min(st.size, Math.ceil(this.mipsHead * st.size));
    const order = Int32Array.from({ length: st.size }, (_, r) => r);
    const nr = st.norms2;
    order.sort((a, b) => nr[b] - nr[a] || a - b);
    this.headRows = order.slice(0, h);
    this.isHead = new Uint8Array(st.size);
    for (let i = 0; i < h; i++) this.isHead[this.headRows[i]] = 1;
    return this.headRows;
  }

  private space(): "l2" | "ip" {
    return this.metric === "cosine" ? "ip" : "l2";
  }

  private newNative(capacity: number): NativeHnsw {
    const h = new (hnswlib())(this.space(), this.nativeDim);
    h.initIndex(Math.max(capacity, 16), this.m, this.efConstruction, this.seed);
    this.curEf = -1;
    return h;
  }

  private addRow(r: number): void {
    const st = this.store;
    const dim = this.dim;
    const arr = this.rowArr;
    for (let j = 0; j < dim; j++) arr[j] = st.data[r * dim + j];
    if (this.metric === "ip") arr[dim] = Math.sqrt(Math.max(0, this.phi - st.norms2[r]));
    (this.native as NativeHnsw).addPoint(arr, r);
  }

  private setEf(ef: number): void {
    if (ef !== this.curEf) {
      (this.native as NativeHnsw).setEf(ef);
      this.curEf = ef;
    }
  }
}
