import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../math/rng.ts";
import { request, runNegativeSamplerContract, zipfStats } from "./contract.ts";
import * as negatives from "./index.ts";

runNegativeSamplerContract(() => negatives.uniform({ count: 3 }));
runNegativeSamplerContract(() => negatives.popularity({ power: 0.75, count: 2 }));
runNegativeSamplerContract(() => negatives.popularity({ power: 1, count: 64, shared: true }));
runNegativeSamplerContract(() => negatives.logUniform({ count: 5 }));

test("popularity^b: Q ∝ count^b (hand check on three items)", () => {
  const s = negatives.popularity({ power: 0.5 });
  s.prepare({ nItems: 3, counts: Float64Array.of(1, 4, 0), batchesPerEpoch: 1 });
  // weights 1, 2, 0 → 1/3, 2/3, 0
  assert.ok(Math.abs(s.prob[0] - 1 / 3) < 1e-12 && Math.abs(s.prob[1] - 2 / 3) < 1e-12 && s.prob[2] === 0);
});

test("log-uniform: the most popular item has rank 0, P = log 2 / log(n + 1)", () => {
  const stats = zipfStats(50);
  const s = negatives.logUniform();
  s.prepare(stats);
  // zipfStats puts the largest count on item 0
  assert.ok(Math.abs(s.prob[0] - Math.log(2) / Math.log(51)) < 1e-12);
  // and the least popular (rank 49) gets (log 51 − log 50) / log 51
  let minP = 1;
  for (const p of s.prob) minP = Math.min(minP, p);
  assert.ok(Math.abs(minP - (Math.log(51) - Math.log(50)) / Math.log(51)) < 1e-12);
});

test("in-batch (counts): Q = C / ΣC, draws nothing", () => {
  const s = negatives.inBatch();
  s.prepare({ nItems: 3, counts: Float64Array.of(1, 3, 0), batchesPerEpoch: 4 });
  assert.equal(s.count, 0);
  assert.ok(s.shared && s.inBatch);
  const lq = new Float32Array(2);
  s.logQInto(Int32Array.of(0, 1), 2, lq, 0);
  assert.ok(Math.abs(lq[0] - Math.log(0.25)) < 1e-6 && Math.abs(lq[1] - Math.log(0.75)) < 1e-6);
});

test("in-batch (streaming, Yi et al.): the gap estimate converges to the true per-draw frequency", () => {
  // Batches of 10 rows drawn from a fixed distribution q; after many steps exp(logQ) ≈ q.
  const q = [0.5, 0.3, 0.15, 0.05];
  const s = negatives.inBatch({ estimator: "streaming", alpha: 0.01, warmStart: false });
  s.prepare({ nItems: 4, counts: new Float64Array(4), batchesPerEpoch: 1 });
  const rng = new Rng(9);
  const rows = 10;
  const req = { rows, queryIds: new Int32Array(rows), posIds: new Int32Array(rows), step: 0 };
  for (let t = 0; t < 20_000; t++) {
    for (let r = 0; r < rows; r++) {
      const u = rng.next();
      req.posIds[r] = u < 0.5 ? 0 : u < 0.8 ? 1 : u < 0.95 ? 2 : 3;
    }
    s.observe({ ...req, step: t });
  }
  const lq = new Float32Array(4);
  s.logQInto(Int32Array.of(0, 1, 2, 3), 4, lq, 0);
  // Per step an item appears with probability 1 − (1 − q)^rows; the estimator measures that
  // (one sighting per step), so compare with it, per draw.
  for (let i = 0; i < 4; i++) {
    const expected = (1 - (1 - q[i]) ** rows) / rows;
    const got = Math.exp(lq[i]);
    assert.ok(Math.abs(got - expected) / expected < 0.15, `item ${i}: ${got} vs ${expected}`);
  }
});

test("mixed: Q is the |B|/(|B|+|B'|) mixture of in-batch and global (5-32)", () => {
  const stats = { nItems: 4, counts: Float64Array.of(6, 2, 1, 1), batchesPerEpoch: 1 };
  const s = negatives.mixed({ global: negatives.uniform(), nGlobal: 30 });
  s.prepare(stats);
  const out = new Int32Array(30);
  s.sampleInto(new Rng(2), request(10), out);
  for (const x of out) assert.ok(x >= 0 && x < 4);
  const lq = new Float32Array(1);
  s.logQInto(Int32Array.of(0), 1, lq, 0);
  // 10/40 · 0.6 + 30/40 · 0.25
  assert.ok(Math.abs(Math.exp(lq[0]) - (0.25 * 0.6 + 0.75 * 0.25)) < 1e-6);
});

test("hard: about 1 in (ratio + 1) slots comes from the source", () => {
  const s = negatives.hard({ easy: negatives.uniform({ count: 10 }), source: () => 99, ratio: 9 });
  s.prepare({ nItems: 100, counts: new Float64Array(100).fill(1), batchesPerEpoch: 1 });
  const rows = 1000;
  const out = new Int32Array(rows * 10);
  s.sampleInto(new Rng(4), request(rows), out);
  let hard = 0;
  for (const x of out) if (x === 99) hard++;
  // uniform also draws 99 with prob 1/100: expected share 0.1 + 0.9·0.01 = 0.109
  assert.ok(Math.abs(hard / out.length - 0.109) < 0.01, `hard share ${hard / out.length}`);
});
