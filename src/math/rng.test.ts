import assert from "node:assert/strict";
import { test } from "node:test";
import { AliasTable } from "./alias.ts";
import { Rng } from "./rng.ts";

test("same seed, same stream; different seeds differ", () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const c = new Rng(8);
  const xa = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(
    xa,
    Array.from({ length: 5 }, () => b.nextU32()),
  );
  assert.notDeepEqual(
    xa,
    Array.from({ length: 5 }, () => c.nextU32()),
  );
});

test("uniform floats in [0,1) with the right mean; ints in range", () => {
  const r = new Rng(1);
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    sum += x;
    const j = r.int(7);
    assert.ok(j >= 0 && j < 7 && Number.isInteger(j));
  }
  assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.005);
});

test("alias table frequencies match the weights at n = 1e5", () => {
  const w = [1, 0, 3, 6, 0.5];
  const t = new AliasTable(w);
  const total = w.reduce((a, b) => a + b, 0);
  const counts = new Float64Array(w.length);
  const r = new Rng(3);
  const n = 100_000;
  for (let i = 0; i < n; i++) counts[t.sample(r)]++;
  for (let i = 0; i < w.length; i++) {
    const p = w[i] / total;
    assert.ok(Math.abs(t.prob[i] - p) < 1e-12);
    // 4 standard deviations of a binomial proportion
    assert.ok(
      Math.abs(counts[i] / n - p) <= 4 * Math.sqrt((p * (1 - p)) / n) + 1e-9,
      `item ${i}: ${counts[i] / n} vs ${p}`,
    );
  }
  assert.equal(counts[1], 0);
});

test("alias table rejects bad weights", () => {
  assert.throws(() => new AliasTable([]), /no weights/);
  assert.throws(() => new AliasTable([1, -1]), /weight 1 is -1/);
  assert.throws(() => new AliasTable([0, 0]), /all weights are zero/);
});
