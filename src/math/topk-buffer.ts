/**
 * Streaming top-k by "collect, then select" (FAISS's ReservoirTopN idea): candidates above a
 * threshold are appended to an unsorted buffer of `cap` > k slots; when it fills, a quickselect
 * keeps the k best and the k-th best becomes the new threshold. A candidate costs a compare and
 * two stores instead of a heap sift (log₂k levels), and a compaction costs O(cap) on average,
 * i.e. O(cap / (cap − k)) per candidate. Order is score descending, ties toward the smaller id,
 * exactly as TopKHeap, so results match `topKRowInto` and a full sort.
 *
 * Contract: within one row (between `reset`s) candidates arrive in ascending id order. Then a
 * later candidate whose score equals the threshold can never enter (same score, larger id), so
 * `score > thr` is the exact admission test, and callers may filter with a stale (lower) `thr`.
 */
import type { TopK, TopKHeap } from "./topk.ts";

export class TopKBuffer {
  readonly k: number;
  readonly cap: number;
  size = 0;
  /** A candidate enters only when its score is > thr (−∞ until the first compaction). */
  thr = Number.NEGATIVE_INFINITY;
  private readonly s: Float64Array;
  private readonly id: Int32Array;

  /** `cap` defaults to 4k (at least k + 16): fewer compactions, at the price of a staler threshold. */
  constructor(k: number, cap = Math.max(4 * k, k + 16)) {
    this.k = k;
    this.cap = Math.max(cap, k + 1);
    this.s = new Float64Array(this.cap);
    this.id = new Int32Array(this.cap);
  }

  reset(): void {
    this.size = 0;
    this.thr = this.k === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** Appends a candidate the caller has checked with `score > thr`; compacts when full. */
  push(score: number, id: number): void {
    const n = this.size;
    this.s[n] = score;
    this.id[n] = id;
    this.size = n + 1;
    if (n + 1 === this.cap) this.compact();
  }

  /** Keeps the k best and raises the threshold to the k-th best score. */
  compact(): void {
    const k = this.k;
    if (this.size <= k) return;
    selectBest(this.s, this.id, this.size, k);
    this.size = k;
    this.thr = this.s[k - 1];
  }

  /**
   * Writes the k best, best first, into row `row` of `out` (sorting through `heap`, whose k must
   * be ≥ this.k), and empties the buffer.
   */
  drainInto(heap: TopKHeap, out: TopK, row: number): void {
    this.compact();
    heap.reset();
    for (let i = 0; i < this.size; i++) heap.push(this.s[i], this.id[i]);
    heap.drainInto(out, row);
    this.reset();
  }
}

/**
 * Reorders s/id[0 .. n) so that the k best (score descending, then id ascending) occupy
 * [0 .. k) with the k-th best at k − 1 (Wirth's quickselect, median-of-three pivot). 1 ≤ k ≤ n;
 * ids are distinct, so no two entries compare equal.
 */
export function selectBest(s: Float64Array, id: Int32Array, n: number, k: number): void {
  const t = k - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    // median of s[lo], s[mid], s[hi] as pivot
    const mid = (lo + hi) >> 1;
    if (better(s[hi], id[hi], s[lo], id[lo])) swap(s, id, lo, hi);
    if (better(s[mid], id[mid], s[lo], id[lo])) swap(s, id, lo, mid);
    if (better(s[hi], id[hi], s[mid], id[mid])) swap(s, id, mid, hi);
    const ps = s[mid];
    const pi = id[mid];
    let i = lo;
    let j = hi;
    do {
      while (better(s[i], id[i], ps, pi)) i++;
      while (better(ps, pi, s[j], id[j])) j--;
      if (i <= j) {
        swap(s, id, i, j);
        i++;
        j--;
      }
    } while (i <= j);
    if (j < t) lo = i;
    if (t < i) hi = j;
  }
}

/** (sa, ia) ranks above (sb, ib): higher score, or equal score and smaller id. */
function better(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa > sb || (sa === sb && ia < ib);
}

function swap(s: Float64Array, id: Int32Array, a: number, b: number): void {
  const x = s[a];
  s[a] = s[b];
  s[b] = x;
  const y = id[a];
  id[a] = id[b];
  id[b] = y;
}
