import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "./rng.ts";
import { TopK, TopKHeap } from "./topk.ts";
import { selectBest, TopKBuffer } from "./topk-buffer.ts";

/** Full-sort oracle: ids of the k best of scores (descending, ties by smaller id), NaN/−∞ left out. */
function bestByFullSort(scores: Float32Array, k: number): number[] {
  const ids = [...scores.keys()].filter((j) => scores[j] > Number.NEGATIVE_INFINITY);
  return ids.sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
}

function viaBuffer(scores: Float32Array, k: number, cap?: number): number[] {
  const buf = cap === undefined ? new TopKBuffer(k) : new TopKBuffer(k, cap);
  buf.reset();
  for (let j = 0; j < scores.length; j++) if (scores[j] > buf.thr) buf.push(scores[j], j);
  const out = new TopK(1, k);
  buf.drainInto(new TopKHeap(k), out, 0);
  return [...out.ids.subarray(0, out.counts[0])];
}

describe("TopKBuffer", () => {
  it("matches a full sort at n, k in 1/3/15/16/17 (k > n included), with ties", () => {
    const rng = new Rng(1);
    for (const n of [1, 3, 15, 16, 17, 200])
      for (const k of [1, 3, 15, 16, 17])
        for (const levels of [3, 1000]) {
          // few distinct levels → many ties
          const scores = Float32Array.from({ length: n }, () => rng.int(levels));
          assert.deepEqual(viaBuffer(scores, k), bestByFullSort(scores, k), `n=${n} k=${k} levels=${levels}`);
          assert.deepEqual(viaBuffer(scores, k, k + 1), bestByFullSort(scores, k), `cap k+1, n=${n} k=${k}`);
        }
  });

  it("leaves out NaN and −∞, keeps +∞", () => {
    const scores = Float32Array.of(Number.NaN, 1, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0);
    assert.deepEqual(viaBuffer(scores, 10, 11), [3, 1, 4]);
  });

  it("selectBest puts the k best first with the k-th best at k − 1", () => {
    const rng = new Rng(2);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.int(60);
      const k = 1 + rng.int(n);
      const s = Float64Array.from({ length: n }, () => rng.int(8));
      const id = Int32Array.from({ length: n }, (_, i) => i);
      rng.shuffle(id);
      const score = new Map([...id].map((v, i) => [v, s[i]]));
      const sortedIds = [...id].sort((a, b) => (score.get(b) as number) - (score.get(a) as number) || a - b);
      selectBest(s, id, n, k);
      assert.deepEqual(
        [...id.subarray(0, k)].sort((a, b) => a - b),
        sortedIds.slice(0, k).sort((a, b) => a - b),
      );
      assert.equal(id[k - 1], sortedIds[k - 1]);
    }
  });
});
