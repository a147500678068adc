/**
 * Slow, obviously-correct oracle for the evaluation protocol (tests only): full score and full
 * sort per user, metrics straight from their definitions in metrics.ts with Sets and arrays.
 */
import type { Csr } from "../math/csr.ts";

function row(a: Csr, r: number): number[] {
  return Array.from(a.indices.subarray(a.offsets[r], a.offsets[r + 1]));
}

/**
 * Full ranking of user u: every item not in u's training row, by score descending, ties by the
 * smaller id; items scoring NaN or −∞ are left out.
 */
export function referenceRanking(score: (u: number, i: number) => number, u: number, train: Csr): number[] {
  const seen = new Set(row(train, u));
  const items: number[] = [];
  for (let i = 0; i < train.nCols; i++)
    if (!seen.has(i) && score(u, i) > Number.NEGATIVE_INFINITY) items.push(i);
  return items.sort((a, b) => score(u, b) - score(u, a) || a - b);
}

/** All metrics of metrics.ts for the users with ≥ 1 test item among `users`. */
export function referenceMetrics(
  ranking: (u: number) => number[],
  users: Int32Array,
  train: Csr,
  test: Csr,
  ks: number[],
): { users: number; metrics: Record<string, number> } {
  const nItems = train.nCols;
  const pop = new Array<number>(nItems).fill(0);
  for (let e = 0; e < train.indices.length; e++) pop[train.indices[e]]++;
  const byPop = Array.from({ length: nItems }, (_, i) => i).sort((a, b) => pop[b] - pop[a] || a - b);
  const total = pop.reduce((s, x) => s + x, 0);
  const head = new Set<number>();
  let acc = 0;
  for (const i of byPop) {
    if (acc >= 0.8 * total) break;
    head.add(i);
    acc += pop[i];
  }
  const evalUsers = Array.from(users).filter((u) => test.offsets[u + 1] > test.offsets[u]);
  const m: Record<string, number> = {};
  for (const K of ks) {
    let recall = 0;
    let ndcg = 0;
    let hitrate = 0;
    let precision = 0;
    let mrr = 0;
    let map = 0;
    const counts = new Array<number>(nItems).fill(0);
    let slots = 0;
    let popSum = 0;
    let tail = 0;
    for (const u of evalUsers) {
      const T = new Set(row(test, u));
      const L = ranking(u).slice(0, K);
      const rel = L.map((i) => (T.has(i) ? 1 : 0));
      const hits = rel.reduce((s: number, x) => s + x, 0);
      recall += hits / T.size;
      precision += hits / K;
      hitrate += hits > 0 ? 1 : 0;
      let dcg = 0;
      let idcg = 0;
      for (let r = 0; r < L.length; r++) dcg += rel[r] / Math.log2(r + 2);
      for (let r = 0; r < Math.min(T.size, K); r++) idcg += 1 / Math.log2(r + 2);
      ndcg += dcg / idcg;
      const first = rel.indexOf(1);
      mrr += first < 0 ? 0 : 1 / (first + 1);
      let ap = 0;
      for (let r = 0; r < L.length; r++) {
        if (rel[r] === 1) ap += rel.slice(0, r + 1).reduce((s: number, x) => s + x, 0) / (r + 1);
      }
      map += ap / Math.min(T.size, K);
      for (const i of L) {
        counts[i]++;
        slots++;
        popSum += pop[i];
        if (!head.has(i)) tail++;
      }
    }
    const n = evalUsers.length;
    m[`recall@${K}`] = recall / n;
    m[`ndcg@${K}`] = ndcg / n;
    m[`hitrate@${K}`] = hitrate / n;
    m[`precision@${K}`] = precision / n;
    m[`mrr@${K}`] = mrr / n;
    m[`map@${K}`] = map / n;
    m[`coverage@${K}`] = counts.filter((c) => c > 0).length / nItems;
    m[`avgpop@${K}`] = popSum / slots;
    const sorted = [...counts].sort((a, b) => a - b);
    const sum = sorted.reduce((s, x) => s + x, 0);
    m[`gini@${K}`] = sorted.reduce((s, x, i) => s + (2 * (i + 1) - nItems - 1) * x, 0) / (nItems * sum);
    m[`longtail@${K}`] = tail / slots;
  }
  return { users: evalUsers.length, metrics: m };
}
