import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../math/rng.ts";
import { buildItemGraph, randomWalks, stepFrom, transitionProbabilities } from "./item-graph.ts";

// sequences: 0→1→2, 0→1, 0→2, 1→0  ⇒  M_01 = 2, M_02 = 1, M_12 = 1, M_10 = 1
const seqs = { offsets: Int32Array.of(0, 3, 5, 7, 9), items: Int32Array.of(0, 1, 2, 0, 1, 0, 2, 1, 0) };

test("edge weights are transition counts", () => {
  const g = buildItemGraph(seqs, 3);
  assert.deepEqual([...g.offsets], [0, 2, 4, 4]);
  assert.deepEqual([...g.indices], [1, 2, 0, 2]);
  assert.deepEqual([...g.weights], [2, 1, 1, 1]);
  // P(1 | 0) = 2 / 3, P(2 | 0) = 1 / 3
  assert.deepEqual(
    [...transitionProbabilities(g, 0)],
    [
      [1, 2 / 3],
      [2, 1 / 3],
    ],
  );
});

test("alias walk steps follow M_ij / Σ_j M_ij", () => {
  const g = buildItemGraph(seqs, 3);
  const rng = new Rng(5);
  const n = 100_000;
  const hits = new Float64Array(3);
  for (let k = 0; k < n; k++) hits[stepFrom(g, 0, rng)]++;
  assert.ok(Math.abs(hits[1] / n - 2 / 3) < 0.01, `P(1|0) ≈ ${hits[1] / n}`);
  assert.ok(Math.abs(hits[2] / n - 1 / 3) < 0.01);
  assert.equal(hits[0], 0);
});

test("walks stop at sinks and start from every node with out-edges", () => {
  const g = buildItemGraph(seqs, 3);
  const w = randomWalks(g, new Rng(1), { walksPerNode: 4, walkLength: 6 });
  assert.equal(w.offsets.length - 1, 8); // nodes 0 and 1 have out-edges; node 2 is a sink
  for (let s = 0; s + 1 < w.offsets.length; s++) {
    const walk = w.items.subarray(w.offsets[s], w.offsets[s + 1]);
    for (let k = 1; k < walk.length; k++) assert.ok(transitionProbabilities(g, walk[k - 1]).has(walk[k]));
    if (walk.length < 6) assert.equal(walk[walk.length - 1], 2);
  }
});
