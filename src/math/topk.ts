/**
 * Batch-first top-K results (usearch's BatchMatches): row i holds `counts[i]` ≤ k entries at
 * `ids[i*k ..]`, best first. The shape never depends on how many queries were asked.
 */
export class TopK {
  readonly n: number;
  readonly k: number;
  readonly ids: Int32Array;
  readonly scores: Float32Array;
  readonly counts: Int32Array;

  constructor(n: number, k: number) {
    this.n = n;
    this.k = k;
    this.ids = new Int32Array(n * k).fill(-1);
    this.scores = new Float32Array(n * k).fill(Number.NEGATIVE_INFINITY);
    this.counts = new Int32Array(n);
  }

  /** Stacks batch results with the same k into one (allocates). */
  static concat(parts: readonly TopK[]): TopK {
    if (parts.length === 1) return parts[0];
    const k = parts.length === 0 ? 0 : parts[0].k;
    const out = new TopK(
      parts.reduce((s, p) => s + p.n, 0),
      k,
    );
    let r = 0;
    for (const p of parts) {
      if (p.k !== k) throw new RangeError(`TopK.concat: k ${p.k} differs from ${k}`);
      out.ids.set(p.ids, r * k);
      out.scores.set(p.scores, r * k);
      out.counts.set(p.counts, r);
      r += p.n;
    }
    return out;
  }

  /** Row i as fresh arrays (allocates). */
  row(i: number): { ids: Int32Array; scores: Float32Array } {
    const c = this.counts[i];
    return {
      ids: this.ids.slice(i * this.k, i * this.k + c),
      scores: this.scores.slice(i * this.k, i * this.k + c),
    };
  }
}

/**
 * Bounded min-heap of (score, id) that keeps the k best. Ties break toward the smaller id so
 * results are deterministic. Preallocated; `reset()` reuses it across rows.
 */
export class TopKHeap {
  readonly k: number;
  size = 0;
  private readonly hs: Float64Array;
  private readonly hi: Int32Array;

  constructor(k: number) {
    this.k = k;
    this.hs = new Float64Array(Math.max(1, k));
    this.hi = new Int32Array(Math.max(1, k));
  }

  reset(): void {
    this.size = 0;
  }

  /** Score a candidate must beat to enter (−∞ while not full). */
  threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.hs[0];
  }

  push(score: number, id: number): void {
    const k = this.k;
    if (k === 0 || Number.isNaN(score)) return; // NaN never enters
    const hs = this.hs;
    const hi = this.hi;
    if (this.size < k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (worse(hs[p], hi[p], score, id)) break;
        hs[i] = hs[p];
        hi[i] = hi[p];
        i = p;
      }
      hs[i] = score;
      hi[i] = id;
      return;
    }
    if (!worse(hs[0], hi[0], score, id)) return;
    // replace root and sift down
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      if (r < n && worse(hs[r], hi[r], hs[l], hi[l])) m = r;
      if (!worse(hs[m], hi[m], score, id)) break;
      hs[i] = hs[m];
      hi[i] = hi[m];
      i = m;
    }
    hs[i] = score;
    hi[i] = id;
  }

  /** Writes the heap's entries best first into row `row` of `out`, and empties the heap. */
  drainInto(out: TopK, row: number): void {
    const base = row * out.k;
    const n = this.size;
    // Pop the worst repeatedly, filling from the back.
    for (let j = n - 1; j >= 0; j--) {
      out.ids[base + j] = this.hi[0];
      out.scores[base + j] = this.hs[0];
      this.popRoot();
    }
    out.counts[row] = n;
  }

  private popRoot(): void {
    const hs = this.hs;
    const hi = this.hi;
    const n = --this.size;
    if (n === 0) return;
    const s = hs[n];
    const id = hi[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      if (r < n && worse(hs[r], hi[r], hs[l], hi[l])) m = r;
      if (!worse(hs[m], hi[m], s, id)) break;
      hs[i] = hs[m];
      hi[i] = hi[m];
      i = m;
    }
    hs[i] = s;
    hi[i] = id;
  }
}

/** true when (sa, ia) ranks below (sb, ib): lower score, or equal score and larger id. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/**
 * Top-k over one dense score row, skipping ids in `exclude[excludeFrom..excludeTo)` (sorted
 * ascending, e.g. a CSR row of seen items). Writes into row `row` of `out`.
 */
export function topKRowInto(
  scores: Float32Array,
  scoresFrom: number,
  n: number,
  exclude: Int32Array | null,
  excludeFrom: number,
  excludeTo: number,
  heap: TopKHeap,
  out: TopK,
  row: number,
): void {
  heap.reset();
  let e = excludeFrom;
  let next = exclude !== null && e < excludeTo ? exclude[e] : -1;
  let thr = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    if (j === next) {
      // Skip past repeats of j, so an exclusion list with duplicates still masks correctly.
      while (e < excludeTo && (exclude as Int32Array)[e] <= j) e++;
      next = e < excludeTo ? (exclude as Int32Array)[e] : -1;
      continue;
    }
    const s = scores[scoresFrom + j];
    if (s > thr || (heap.size < heap.k && !Number.isNaN(s))) {
      heap.push(s, j);
      thr = heap.threshold();
    } else if (s === thr && heap.size === heap.k) {
      heap.push(s, j); // a tie may still win on the smaller id
    }
  }
  heap.drainInto(out, row);
}
