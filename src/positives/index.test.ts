import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../math/rng.ts";
import { drainEpoch, randomDataset, runPositiveSourceContract, tinyDataset } from "./contract.ts";
import * as positives from "./index.ts";

runPositiveSourceContract(() => positives.userItem());
runPositiveSourceContract(() => positives.userItem({ subsample: 0.01 }));
runPositiveSourceContract(() => positives.skipGram({ window: 2 }));
runPositiveSourceContract(() => positives.skipGram({ window: 3, subsample: 0.02 }), randomDataset(3), 0.35);
runPositiveSourceContract(() => positives.sessionPairs({ maxLength: 6 }));
runPositiveSourceContract(() => positives.userSplit());
runPositiveSourceContract(() =>
  positives.pairs({ q: Int32Array.of(0, 1, 2), t: Int32Array.of(2, 2, 0), nQueries: 3, nTargets: 3 }),
);

test("userItem: each distinct (user, item) once per epoch", () => {
  const ds = tinyDataset([0, 0, 0, 1], [1, 2, 1, 0]); // (0,1) twice
  const s = positives.userItem();
  s.prepare(ds);
  const e = drainEpoch(s, new Rng(1), 10);
  const got = e.q.map((q, i) => `${q}-${e.t[i]}`).sort();
  assert.deepEqual(got, ["0-1", "0-2", "1-0"]);
});

test("skipGram window 1 on one ordered session gives the adjacent pairs", () => {
  // one user, times out of order: sequence by ts is 10, 11, 12
  const ds = tinyDataset([0, 0, 0], [12, 10, 11], { ts: [3, 1, 2] });
  const s = positives.skipGram({ window: 1 });
  s.prepare(ds);
  const e = drainEpoch(s, new Rng(1), 10);
  const got = e.q.map((q, i) => `${q}-${e.t[i]}`).sort();
  assert.deepEqual(got, ["10-11", "11-10", "11-12", "12-11"]);
});

test("sessionPairs: all ordered pairs inside each session, none across", () => {
  const ds = tinyDataset([0, 0, 0, 0], [1, 2, 3, 4], { sessions: [0, 0, 1, 1] });
  const s = positives.sessionPairs();
  s.prepare(ds);
  const e = drainEpoch(s, new Rng(1), 3);
  const got = e.q.map((q, i) => `${q}-${e.t[i]}`).sort();
  assert.deepEqual(got, ["1-2", "2-1", "3-4", "4-3"]);
});

test("subsample: P_keep = min(1, √(α/f)) (5-21)", () => {
  const keep = positives.keepProbabilities(Float64Array.of(90, 9, 1), 0.01);
  // f = 0.9, 0.09, 0.01 → √(0.01/0.9), √(0.01/0.09), 1
  assert.ok(Math.abs(keep[0] - Math.sqrt(0.01 / 0.9)) < 1e-12);
  assert.ok(Math.abs(keep[1] - 1 / 3) < 1e-12);
  assert.equal(keep[2], 1);
});

test("userSplit: halves are disjoint, cover the history, and pair 2u with 2u + 1", () => {
  const ds = tinyDataset([0, 0, 0, 0, 1, 2, 2], [0, 1, 2, 3, 0, 1, 2]);
  const s = positives.userSplit();
  const info = s.prepare(ds);
  const bags = info.queryBags;
  assert.ok(bags !== null);
  const row = (r: number) => Array.from(bags.indices.subarray(bags.offsets[r], bags.offsets[r + 1]));
  assert.deepEqual([...row(0), ...row(1)].sort(), [0, 1, 2, 3]);
  assert.equal(row(0).length, 2);
  assert.deepEqual(row(2), []); // user 1 has one item: no pair
  const e = drainEpoch(s, new Rng(2), 10);
  assert.deepEqual(e.q.map((q, i) => [q, e.t[i]]).sort(), [
    [0, 1],
    [4, 5],
  ]);
});
