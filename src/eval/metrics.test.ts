import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecallkitError } from "../errors.ts";
import { buildCsr, type Csr } from "../math/csr.ts";
import { TopK } from "../math/topk.ts";
import { evaluateTopK, gini, headItems } from "./metrics.ts";

function csr(nRows: number, nCols: number, rows: number[][]): Csr {
  const r: number[] = [];
  const c: number[] = [];
  rows.forEach((items, u) => {
    for (const i of items) {
      r.push(u);
      c.push(i);
    }
  });
  return buildCsr(nRows, nCols, Int32Array.from(r), Int32Array.from(c), null, "one");
}

function lists(k: number, rows: number[][]): TopK {
  const t = new TopK(rows.length, k);
  rows.forEach((ids, i) => {
    t.ids.set(ids, i * k);
    t.counts[i] = ids.length;
  });
  return t;
}

function close(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) < 1e-12, `${what}: ${got} vs ${want}`);
}

describe("eval metrics", () => {
  it("match a hand-computed example (masking, short list, skipped user)", () => {
    // 3 users × 6 items. train: u0 {0}, u1 {1, 2}, u2 {}. test: u0 {1, 3}, u1 {0}, u2 {} (skipped).
    const train = csr(3, 6, [[0], [1, 2], []]);
    const test = csr(3, 6, [[1, 3], [0], []]);
    // Lists as given (k = 4): u0 [1, 0, 4, 3] → training item 0 masked → ranks [1, 4, 3];
    // u1 [5, 1, 0] → 1 masked → [5, 0] (shorter than K = 3); u2 has no test items.
    const report = evaluateTopK(
      lists(4, [[1, 0, 4, 3], [5, 1, 0], [2]]),
      Int32Array.of(0, 1, 2),
      train,
      test,
      {
        ks: [3, 1],
      },
    );
    assert.equal(report.users, 2);
    assert.deepEqual(report.k, [1, 3]);
    const m = report.metrics;
    // @1. u0: [1] hits 1 of t=2 → recall ½, precision 1, hit 1, dcg 1/log2(2) = 1, idcg over
    //   min(2,1) = 1 → ndcg 1, mrr 1, AP = (1/1)/min(2,1) = 1.
    //   u1: [5] no hit → all 0. Means over 2 users:
    close(m["recall@1"], 0.25, "recall@1");
    close(m["precision@1"], 0.5, "precision@1");
    close(m["hitrate@1"], 0.5, "hitrate@1");
    close(m["ndcg@1"], 0.5, "ndcg@1");
    close(m["mrr@1"], 0.5, "mrr@1");
    close(m["map@1"], 0.5, "map@1");
    // @3. u0: [1, 4, 3] hits at ranks 0 and 2 → recall 2/2 = 1, precision 2/3,
    //   dcg = 1 + 1/log2(4) = 1.5, idcg over min(2,3) = 2: 1 + 1/log2(3) → ndcg 1.5/(1 + 1/log2 3),
    //   mrr 1, AP = (1/1 + 2/3)/2 = 5/6.
    //   u1: [5, 0] hit at rank 1 → recall 1, precision 1/3, dcg 1/log2(3), idcg over min(1,3) = 1
    //   → ndcg 1/log2 3, mrr ½, AP = (1/2)/1 = ½.
    const ndcgU0 = 1.5 / (1 + 1 / Math.log2(3));
    close(m["recall@3"], 1, "recall@3");
    close(m["precision@3"], (2 / 3 + 1 / 3) / 2, "precision@3");
    close(m["hitrate@3"], 1, "hitrate@3");
    close(m["ndcg@3"], (ndcgU0 + 1 / Math.log2(3)) / 2, "ndcg@3");
    close(m["mrr@3"], 0.75, "mrr@3");
    close(m["map@3"], (5 / 6 + 0.5) / 2, "map@3");
    // Beyond accuracy. Training popularity: items 0, 1, 2 → 1 each, 3..5 → 0; 80% of 3
    // interactions = 2.4, reached only after items 0, 1, 2 (1 + 1 + 1) → head = {0, 1, 2}.
    // @1 slots: u0 → 1, u1 → 5. coverage 2/6; avgpop (1 + 0)/2; longtail: 5 is tail → ½;
    //   counts sorted [0,0,0,0,1,1], n = 6: Σ(2i−7)c_i = 3·1 + 5·1 = 8, / (6·2) → ⅔.
    close(m["coverage@1"], 2 / 6, "coverage@1");
    close(m["avgpop@1"], 0.5, "avgpop@1");
    close(m["longtail@1"], 0.5, "longtail@1");
    close(m["gini@1"], 8 / 12, "gini@1");
    // @3 slots: 1, 4, 3 and 5, 0. coverage 5/6; avgpop (1+0+0+0+1)/5 = 0.4; tail {4, 3, 5} → 3/5;
    //   counts [1,1,0,1,1,1] sorted [0,1,1,1,1,1]: Σ(2i−7)c_i = −3 −1 +1 +3 +5 = 5, / (6·5) → ⅙.
    close(m["coverage@3"], 5 / 6, "coverage@3");
    close(m["avgpop@3"], 0.4, "avgpop@3");
    close(m["longtail@3"], 0.6, "longtail@3");
    close(m["gini@3"], 1 / 6, "gini@3");
    assert.equal(Object.keys(m).length, 20);
  });

  it("ignores repeated items in a list", () => {
    const train = csr(1, 4, [[]]);
    const test = csr(1, 4, [[2]]);
    // [1, 1, 2] → [1, 2]: the hit is at rank 1, not 2
    const r = evaluateTopK(lists(3, [[1, 1, 2]]), Int32Array.of(0), train, test, { ks: [2] });
    close(r.metrics["mrr@2"], 0.5, "mrr@2");
    close(r.metrics["recall@2"], 1, "recall@2");
  });

  it("gini and head items", () => {
    close(gini(Int32Array.of(3, 3, 3)), 0, "even");
    close(gini(Int32Array.of(0, 0, 0, 4)), 3 / 4, "one item: (n−1)/n");
    close(gini(Int32Array.of(0, 0)), 0, "no recommendations");
    // pop [5, 1, 3, 1]: total 10, 80% = 8 → 5 (item 0) then 3 (item 2) reach 8 → head {0, 2}
    assert.deepEqual([...headItems(Int32Array.of(5, 1, 3, 1))], [1, 0, 1, 0]);
  });

  it("validates its arguments", () => {
    const train = csr(2, 3, [[], []]);
    const test = csr(2, 3, [[1], [2]]);
    const bad = (fn: () => unknown) =>
      assert.throws(fn, (e: unknown) => e instanceof RecallkitError && e.code === "RK_ERR_INVALID_ARGUMENT");
    bad(() => evaluateTopK(lists(1, [[0], [1]]), Int32Array.of(0, 1), train, test, { ks: [2] })); // k < max K
    bad(() => evaluateTopK(lists(1, [[0]]), Int32Array.of(0, 1), train, test, { ks: [1] })); // rows ≠ users
    bad(() => evaluateTopK(lists(1, [[7], [1]]), Int32Array.of(0, 1), train, test, { ks: [1] })); // item out of range
    bad(() => evaluateTopK(lists(1, [[0], [1]]), Int32Array.of(0, 1), train, test, { ks: [0] }));
    bad(() =>
      evaluateTopK(lists(1, [[0], [1]]), Int32Array.of(0, 1), train, csr(2, 4, [[], []]), { ks: [1] }),
    );
  });
});
