/**
 * Exact search (faiss `IndexFlat`): scores every item with the blocked `gemmNT` product (WASM SIMD when available) and keeps
 * the best k in a bounded heap. It is the oracle for ANN recall and the right index for small
 * catalogues or where exact answers matter more than speed.
 *
 * Loop order: a block of QB queries against a tile of IT items (QB × IT scores, 64 KiB, stays in
 * L2), so each item tile is read once per query block. Exclusions cost O(|list|) per tile: the
 * query's excluded rows are marked in a shared mask before its tile scan and cleared after; a
 * predicate is called only for items whose score would enter the heap.
 */
import { assert } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import { Gemm } from "../math/gemm-wasm.ts";
import { type TopK, TopKHeap } from "../math/topk.ts";
import type { AnnIndex, BatchSearchOptions, Metric } from "./ann-index.ts";
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

const QB = 8;
const IT = 2048;
export const FLAT_ARTIFACT_TYPE = "ann/flat";

export class BruteForceIndex extends SearchForms implements AnnIndex {
  readonly spec = "Flat";
  readonly dim: number;
  readonly metric: Metric;
  private readonly store: VectorStore;
  /** WASM SIMD product when available (≈10× the JS kernel). */
  private readonly gemm = new Gemm();

  constructor(dim: number, metric: Metric = "ip") {
    super();
    checkDim(dim);
    checkMetric(metric);
    this.dim = dim;
    this.metric = metric;
    this.store = new VectorStore(dim, metric);
  }

  get size(): number {
    return this.store.size;
  }

  add(vectors: Float32Array, ids?: Int32Array): void {
    this.store.append(vectors, ids);
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
    const plan = new ExclusionPlan(opts?.exclude, n);
    const st = this.store;
    const dim = this.dim;
    const size = st.size;
    const l2 = this.metric === "l2";
    const qbuf = new Float32Array(QB * dim);
    const qn2 = new Float64Array(QB);
    const sbuf = new Float32Array(QB * IT);
    const heaps = Array.from({ length: QB }, () => new TopKHeap(k));
    const mask = st.masked;
    const list = plan.list;
    const pred = plan.pred;
    for (let q0 = 0; q0 < n; q0 += QB) {
      const qb = Math.min(QB, n - q0);
      for (let i = 0; i < qb; i++) {
        qn2[i] = st.prepareQueryInto(queries, q0 + i, qbuf, i * dim);
        heaps[i].reset();
      }
      for (let t0 = 0; t0 < size; t0 += IT) {
        const tn = Math.min(IT, size - t0);
        this.gemm.nt(qbuf, 0, qb, st.data, t0, tn, dim, sbuf, 0, IT);
        for (let i = 0; i < qb; i++) {
          const q = q0 + i;
          if (list !== null) st.markInto(list, plan.from(q), plan.to(q), 1);
          scanTile(sbuf, i * IT, t0, tn, l2, st.norms2, qn2[i], mask, pred, st.ids, q, heaps[i]);
          if (list !== null) st.markInto(list, plan.from(q), plan.to(q), 0);
        }
      }
      for (let i = 0; i < qb; i++) {
        heaps[i].drainInto(out, q0 + i);
        if (!st.identityIds) rowsToIdsInto(out, q0 + i, st.ids);
      }
    }
  }

  async save(dir: string): Promise<void> {
    const { vectors, ids } = this.store.snapshot();
    await writeArtifact(
      dir,
      {
        type: FLAT_ARTIFACT_TYPE,
        params: { spec: this.spec, dim: this.dim, metric: this.metric },
        meta: { size: this.size },
      },
      {
        "vectors.npy": { npy: vectors, shape: [this.size, this.dim] },
        "ids.npy": { npy: ids, shape: [this.size] },
      },
    );
  }

  static async load(dir: string): Promise<BruteForceIndex> {
    const a = await readArtifact(dir, FLAT_ARTIFACT_TYPE);
    const { dim, metric } = a.manifest.params as { dim: number; metric: Metric };
    const index = new BruteForceIndex(dim, metric);
    const vectors = (await a.npy("vectors.npy")).data;
    const ids = (await a.npy("ids.npy")).data;
    assert(
      vectors instanceof Float32Array && ids instanceof Int32Array && vectors.length === ids.length * dim,
      () =>
        `${dir}: vectors.npy/ids.npy do not match (${vectors.length} values, ${ids.length} ids, dim ${dim})`,
      "RK_ERR_ARTIFACT",
    );
    index.store.append(vectors, ids, true);
    return index;
  }
}

/**
 * Pushes one tile of one query's scores into its heap. Score s = q·x from the kernel; under l2
 * it becomes −‖q − x‖² = 2q·x − ‖x‖² − ‖q‖². Rows rise during the scan, so a tie never displaces
 * an earlier row and `s > threshold` is the whole entry test.
 */
function scanTile(
  sbuf: Float32Array,
  sOff: number,
  t0: number,
  tn: number,
  l2: boolean,
  norms2: Float32Array,
  qn2: number,
  mask: Uint8Array,
  pred: ((id: number, query: number) => boolean) | null,
  ids: Int32Array,
  q: number,
  heap: TopKHeap,
): void {
  let thr = heap.threshold();
  for (let j = 0; j < tn; j++) {
    const row = t0 + j;
    let s = sbuf[sOff + j];
    if (l2) s = 2 * s - norms2[row] - qn2;
    if (!(s > thr) || mask[row] === 1) continue;
    if (pred?.(ids[row], q)) continue;
    heap.push(s, row);
    thr = heap.threshold();
  }
}

/** Rewrites row `r` of `out` from store rows to item ids. */
export function rowsToIdsInto(out: TopK, r: number, ids: Int32Array): void {
  const base = r * out.k;
  for (let j = 0; j < out.counts[r]; j++) out.ids[base + j] = ids[out.ids[base + j]];
}
