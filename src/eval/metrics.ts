/**
 * Ranking metrics of the evaluation protocol (DESIGN §5), accumulated user by user from top-K
 * lists so that every K is computed in one pass over one top-maxK list.
 *
 * Per user u with test items T (t = |T| ≥ 1) and ranked list L (training items of u and repeated
 * items removed, i.e. masked; positions r = 0, 1, …), at cut-off K:
 *   hits@K      = |L[0..K) ∩ T|
 *   recall@K    = hits / t
 *   precision@K = hits / K
 *   hitrate@K   = 1 if hits > 0 else 0
 *   ndcg@K      = Σ_{r<K, L[r]∈T} 1/log2(r+2)  /  Σ_{r<min(t,K)} 1/log2(r+2)   (binary relevance,
 *                 IDCG over min(t, K): LightGCN's corrected definition)
 *   mrr@K       = 1/(r₀+1) for the first hit r₀ < K, else 0
 *   map@K       = Σ_{r<K, L[r]∈T} (hits in L[0..r]) / (r+1)  /  min(t, K)
 * each averaged over the users with ≥ 1 test item (users without test items are skipped).
 *
 * Beyond accuracy (spec §5.4.1), over the same users' top-K lists (the "slots"):
 *   coverage@K = distinct recommended items / nItems
 *   avgpop@K   = mean training popularity (number of training users) over all slots
 *   gini@K     = Gini coefficient of per-item recommendation counts over the whole catalogue,
 *                Σ_i (2i − n − 1)·c_(i) / (n·Σc) with counts sorted ascending (0 = even, → 1 =
 *                all slots on one item)
 *   longtail@K = share of slots whose item is outside the head, where the head is the smallest
 *                set of most popular training items (popularity descending, ties by smaller id)
 *                whose interactions make up ≥ 80% of all training interactions; items never seen
 *                in training are long tail.
 * avgpop and longtail average over slots, not over users; the two agree whenever every list is
 * full (K unmasked items exist), which is the normal case.
 */
import { assert, RecallkitError } from "../errors.ts";
import { type Csr, columnCounts } from "../math/csr.ts";
import type { TopK } from "../math/topk.ts";

export interface EvalReport {
  /** Users averaged over: those with ≥ 1 test item among the requested users. */
  users: number;
  /** The cut-offs, ascending. */
  k: number[];
  /** `recall@20`, `ndcg@20`, …, `longtail@100`. */
  metrics: Record<string, number>;
  /** Wall-clock seconds of the evaluation. */
  seconds: number;
}

/** Share of training interactions the head items make up (the long-tail boundary). */
export const HEAD_SHARE = 0.8;

/** Default cut-offs. */
export const DEFAULT_KS: readonly number[] = [20, 100];

/** Validates and normalises cut-offs: positive integers, ascending, unique. */
export function normalizeKs(ks: readonly number[] | undefined): number[] {
  const list = ks ?? DEFAULT_KS;
  assert(list.length > 0, () => "ks is empty; pass at least one cut-off, e.g. [20, 100]");
  for (const k of list)
    assert(Number.isInteger(k) && k > 0, () => `ks holds ${k}; cut-offs must be positive integers`);
  return [...new Set(list)].sort((a, b) => a - b);
}

/** Checks that train and test are user → item matrices of the same shape. */
export function checkSplit(train: Csr, test: Csr): void {
  assert(
    train.nRows === test.nRows && train.nCols === test.nCols,
    () =>
      `train is ${train.nRows}×${train.nCols} but test is ${test.nRows}×${test.nCols}; both must be ` +
      "user → item CSR over all users and all items (build them with the same nUsers, nItems)",
  );
}

/** Head-item mask: 1 for the most popular items that cover HEAD_SHARE of training interactions. */
export function headItems(pop: Int32Array): Uint8Array {
  const n = pop.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => pop[b] - pop[a] || a - b);
  let total = 0;
  for (let i = 0; i < n; i++) total += pop[i];
  const head = new Uint8Array(n);
  let acc = 0;
  for (let r = 0; r < n && acc < HEAD_SHARE * total; r++) {
    head[order[r]] = 1;
    acc += pop[order[r]];
  }
  return head;
}

/** Gini coefficient of non-negative counts (0 when all are equal or all zero). */
export function gini(counts: Int32Array): number {
  const n = counts.length;
  if (n === 0) return 0;
  const s = Int32Array.from(counts).sort();
  let num = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    num += (2 * (i + 1) - n - 1) * s[i];
    sum += s[i];
  }
  return sum === 0 ? 0 : num / (n * sum);
}

/**
 * Accumulates the metrics above one user at a time. Preallocates everything at construction
 * (O(nItems · |ks|)); `add` allocates nothing.
 */
export class MetricAccumulator {
  readonly ks: number[];
  readonly maxK: number;
  private readonly train: Csr;
  private readonly test: Csr;
  private readonly nItems: number;
  private readonly pop: Int32Array;
  private readonly head: Uint8Array;
  /** disc[r] = 1/log2(r+2); idcg[t] = Σ_{r<t} disc[r]. */
  private readonly disc: Float64Array;
  private readonly idcg: Float64Array;
  /** stamp[item] === mark: item is in the current user's test set; seen[item] === mark: already listed. */
  private readonly stamp: Int32Array;
  private readonly seen: Int32Array;
  private mark = 0;
  private nUsers = 0;
  private readonly sums: Float64Array; // 6 accuracy sums per K
  private readonly slots: Float64Array;
  private readonly popSum: Float64Array;
  private readonly tailSlots: Float64Array;
  private readonly recCounts: Int32Array[]; // per K: per-item recommendation counts

  constructor(ks: readonly number[], train: Csr, test: Csr) {
    checkSplit(train, test);
    this.ks = normalizeKs(ks);
    this.maxK = this.ks[this.ks.length - 1];
    this.train = train;
    this.test = test;
    this.nItems = train.nCols;
    this.pop = columnCounts(train);
    this.head = headItems(this.pop);
    this.disc = new Float64Array(this.maxK);
    this.idcg = new Float64Array(this.maxK + 1);
    for (let r = 0; r < this.maxK; r++) {
      this.disc[r] = 1 / Math.log2(r + 2);
      this.idcg[r + 1] = this.idcg[r] + this.disc[r];
    }
    this.stamp = new Int32Array(this.nItems);
    this.seen = new Int32Array(this.nItems);
    const nk = this.ks.length;
    this.sums = new Float64Array(6 * nk);
    this.slots = new Float64Array(nk);
    this.popSum = new Float64Array(nk);
    this.tailSlots = new Float64Array(nk);
    this.recCounts = this.ks.map(() => new Int32Array(this.nItems));
  }

  /** Whether `user` has test items (only those users are averaged over). */
  hasTest(user: number): boolean {
    return this.test.offsets[user + 1] > this.test.offsets[user];
  }

  /**
   * Adds user `user`'s ranked list `ids[from .. from+count)`, best first. Training items of the
   * user and repeats are masked (skipped, later items move up); ids must be in [0, nItems).
   * Returns false (and adds nothing) when the user has no test items.
   */
  add(user: number, ids: Int32Array, from: number, count: number): boolean {
    const test = this.test;
    const t0 = test.offsets[user];
    const t = test.offsets[user + 1] - t0;
    if (t === 0) return false;
    const mark = ++this.mark;
    const stamp = this.stamp;
    const seen = this.seen;
    const nItems = this.nItems;
    for (let e = t0; e < t0 + t; e++) stamp[test.indices[e]] = mark;
    const tr = this.train;
    for (let e = tr.offsets[user]; e < tr.offsets[user + 1]; e++) seen[tr.indices[e]] = mark;

    const ks = this.ks;
    const nk = ks.length;
    const maxK = this.maxK;
    const disc = this.disc;
    let hits = 0;
    let dcg = 0;
    let rr = 0;
    let ap = 0;
    let pos = 0; // rank after masking
    let ki = 0;
    for (let q = from; q < from + count && pos < maxK; q++) {
      const item = ids[q];
      if (!(item >= 0 && item < nItems)) {
        throw new RecallkitError(
          "RK_ERR_INVALID_ARGUMENT",
          `list of user ${user} holds item ${item}, outside [0, ${nItems})`,
        );
      }
      if (seen[item] === mark) continue; // training item or repeat: masked
      seen[item] = mark;
      if (stamp[item] === mark) {
        hits++;
        dcg += disc[pos];
        if (rr === 0) rr = 1 / (pos + 1);
        ap += hits / (pos + 1);
      }
      // beyond-accuracy slots for every K with pos < K (ks ascending: from the first such K)
      while (ki < nk && ks[ki] <= pos) ki++;
      const p = this.pop[item];
      const tail = this.head[item] === 0 ? 1 : 0;
      for (let j = ki; j < nk; j++) {
        this.slots[j]++;
        this.popSum[j] += p;
        this.tailSlots[j] += tail;
        this.recCounts[j][item]++;
      }
      pos++;
      if (ki < nk && pos === ks[ki]) this.close(ki, t, hits, dcg, rr, ap);
    }
    // cut-offs the list never reached (fewer than K unmasked items): final values
    for (let j = 0; j < nk; j++) if (ks[j] > pos) this.close(j, t, hits, dcg, rr, ap);
    this.nUsers++;
    return true;
  }

  private close(j: number, t: number, hits: number, dcg: number, rr: number, ap: number): void {
    const K = this.ks[j];
    const m = Math.min(t, K);
    const s = this.sums;
    s[6 * j] += hits / t;
    s[6 * j + 1] += dcg / this.idcg[m];
    s[6 * j + 2] += hits > 0 ? 1 : 0;
    s[6 * j + 3] += hits / K;
    s[6 * j + 4] += rr;
    s[6 * j + 5] += ap / m;
  }

  /** Users added so far. */
  get users(): number {
    return this.nUsers;
  }

  report(seconds: number): EvalReport {
    const metrics: Record<string, number> = {};
    const n = this.nUsers;
    const names = ["recall", "ndcg", "hitrate", "precision", "mrr", "map"];
    for (let j = 0; j < this.ks.length; j++) {
      const K = this.ks[j];
      for (let m = 0; m < 6; m++) metrics[`${names[m]}@${K}`] = n === 0 ? 0 : this.sums[6 * j + m] / n;
      const counts = this.recCounts[j];
      let distinct = 0;
      for (let i = 0; i < counts.length; i++) if (counts[i] > 0) distinct++;
      const slots = this.slots[j];
      metrics[`coverage@${K}`] = this.nItems === 0 ? 0 : distinct / this.nItems;
      metrics[`avgpop@${K}`] = slots === 0 ? 0 : this.popSum[j] / slots;
      metrics[`gini@${K}`] = gini(counts);
      metrics[`longtail@${K}`] = slots === 0 ? 0 : this.tailSlots[j] / slots;
    }
    return { users: n, k: [...this.ks], metrics, seconds };
  }
}

/**
 * Metrics from precomputed lists (e.g. merged multi-channel results): row i of `lists` is the
 * ranking for user `users[i]`. Training items in a list are masked (skipped) and repeats ignored,
 * so lists need not be pre-filtered; `lists.k` must be ≥ the largest cut-off.
 */
export function evaluateTopK(
  lists: TopK,
  users: Int32Array,
  train: Csr,
  test: Csr,
  opts: { ks?: readonly number[] } = {},
): EvalReport {
  const t0 = performance.now();
  const acc = new MetricAccumulator(opts.ks ?? DEFAULT_KS, train, test);
  assert(
    users.length === lists.n,
    () => `lists has ${lists.n} rows but users has ${users.length}; they must match`,
  );
  assert(
    lists.k >= acc.maxK,
    () =>
      `lists hold k = ${lists.k} items per user but the largest cut-off is ${acc.maxK}; pass ks ≤ ${lists.k}`,
  );
  for (let i = 0; i < users.length; i++) {
    const u = users[i];
    assert(u >= 0 && u < train.nRows, () => `users[${i}] = ${u} is outside [0, ${train.nRows})`);
    acc.add(u, lists.ids, i * lists.k, lists.counts[i]);
  }
  return acc.report((performance.now() - t0) / 1000);
}
