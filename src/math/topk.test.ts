import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TopK, TopKHeap, topKRowInto } from "./topk.ts";

/** Reference: full sort by (score desc, id asc) with exclusions. */
function reference(scores: number[], k: number, exclude: number[]): number[] {
  const ex = new Set(exclude);
  return scores
    .map((s, i) => [s, i] as const)
    .filter(([s, i]) => !ex.has(i) && !Number.isNaN(s))
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

test("topKRowInto equals a full sort at sizes 1/3/15/16/17 and k > n", () => {
  for (const n of [1, 3, 15, 16, 17, 100]) {
    for (const k of [1, 5, 16, 200]) {
      const scores = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 12.9898) * 3));
      const exclude = Int32Array.from([0, 2, 7, 50].filter((x) => x < n));
      const out = new TopK(1, k);
      topKRowInto(scores, 0, n, exclude, 0, exclude.length, new TopKHeap(k), out, 0);
      assert.deepEqual(Array.from(out.row(0).ids), reference(Array.from(scores), k, Array.from(exclude)));
    }
  }
});

test("ties break toward the smaller id; property over random rows (seed 7)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 20 }),
      (vals, k) => {
        const scores = Float32Array.from(vals);
        const out = new TopK(1, k);
        topKRowInto(scores, 0, scores.length, null, 0, 0, new TopKHeap(k), out, 0);
        assert.deepEqual(Array.from(out.row(0).ids), reference(vals, k, []));
      },
    ),
    { seed: 7, numRuns: 300 },
  );
});

test("heap drains best first and counts rows", () => {
  const h = new TopKHeap(3);
  for (const [s, i] of [
    [0.5, 1],
    [0.9, 2],
    [0.1, 3],
    [0.7, 4],
  ] as const)
    h.push(s, i);
  const out = new TopK(2, 3);
  h.drainInto(out, 1);
  assert.deepEqual(Array.from(out.row(1).ids), [2, 4, 1]);
  assert.equal(out.counts[0], 0);
  assert.equal(h.size, 0);
});

test("an exclusion list with repeated ids still masks each of them", () => {
  const scores = Float32Array.from([5, 4, 3, 2, 1]);
  const exclude = Int32Array.from([0, 0, 1, 1, 1, 3]);
  const out = new TopK(1, 3);
  topKRowInto(scores, 0, 5, exclude, 0, exclude.length, new TopKHeap(3), out, 0);
  assert.deepEqual(Array.from(out.row(0).ids), [2, 4]);
});

test("TopK.concat stacks batches row by row", () => {
  const a = new TopK(1, 2);
  a.ids.set([3, 4]);
  a.counts[0] = 2;
  const b = new TopK(2, 2);
  b.ids.set([5, -1, 6, 7]);
  b.counts.set([1, 2]);
  const c = TopK.concat([a, b]);
  assert.equal(c.n, 3);
  assert.deepEqual(Array.from(c.row(1).ids), [5]);
  assert.deepEqual(Array.from(c.row(2).ids), [6, 7]);
  assert.throws(() => TopK.concat([a, new TopK(1, 3)]), /differs/);
});
