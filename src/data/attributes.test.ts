import assert from "node:assert/strict";
import { test } from "node:test";
import {
  attributeField,
  attributeValues,
  fitBetaPrior,
  itemPopularity,
  itemStats,
  smoothedCtr,
} from "./attributes.ts";
import { interactions } from "./interactions.ts";

test("single-valued keeps the last value; multi keeps distinct values", () => {
  const single = attributeField("city", 3, [
    [0, "paris"],
    [2, "rome"],
    [0, "oslo"],
  ]);
  assert.equal(single.multi, false);
  assert.deepEqual(attributeValues(single, 0), ["oslo"]);
  assert.deepEqual(attributeValues(single, 1), []);
  assert.deepEqual(attributeValues(single, 2), ["rome"]);
  const multi = attributeField(
    "tag",
    2,
    [
      [1, "b"],
      [1, "a"],
      [1, "b"],
      [0, "a"],
    ],
    { multi: true },
  );
  assert.deepEqual(multi.vocab.ids(), ["b", "a"]);
  assert.deepEqual(attributeValues(multi, 1), ["b", "a"]);
  assert.deepEqual([...multi.csr.offsets], [0, 1, 3]);
  assert.throws(() => attributeField("x", 1, [[5, "v"]]), /entity 5 outside/);
});

test("smoothedCtr = (clicks + α) / (exposures + α + β)", () => {
  const s = itemStats(3, {
    exposures: Float64Array.from([0, 10, 1000]),
    clicks: Float64Array.from([0, 5, 100]),
  });
  // α = 1, β = 9: prior mean 0.1; (0+1)/(0+10) = 0.1, (5+1)/(10+10) = 0.3, (100+1)/(1000+10) = 0.1
  const ctr = smoothedCtr(s, { alpha: 1, beta: 9 });
  assert.deepEqual(
    [...ctr].map((x) => +x.toFixed(6)),
    [0.1, 0.3, 0.1],
  );
  assert.throws(() => smoothedCtr(s, { alpha: 0, beta: 1 }), /must be > 0/);
  assert.throws(() => itemStats(2, { clicks: new Float64Array(3) }), /expected 2/);
});

test("fitBetaPrior recovers the moments of the raw CTRs", () => {
  // CTRs 0.1, 0.2, 0.3: mean 0.2, sample variance 0.01 → α+β = 0.2·0.8/0.01 − 1 = 15, α = 3, β = 12
  const s = itemStats(3, {
    exposures: Float64Array.from([10, 10, 10]),
    clicks: Float64Array.from([1, 2, 3]),
  });
  const p = fitBetaPrior(s);
  assert.ok(Math.abs(p.alpha - 3) < 1e-9 && Math.abs(p.beta - 12) < 1e-9, JSON.stringify(p));
  const flat = itemStats(2, { exposures: Float64Array.from([10, 10]), clicks: Float64Array.from([1, 1]) });
  assert.deepEqual(fitBetaPrior(flat), { alpha: 1, beta: 1 });
});

test("itemPopularity counts rows, per event, or weights", () => {
  const l = interactions({
    users: Int32Array.from([0, 0, 1]),
    items: Int32Array.from([2, 0, 2]),
    weights: Float32Array.from([1, 2, 3]),
    events: Int32Array.from([0, 1, 1]),
    eventNames: ["view", "buy"],
  });
  assert.deepEqual([...itemPopularity(l, 3)], [1, 0, 2]);
  assert.deepEqual([...itemPopularity(l, 3, { event: "buy" })], [1, 0, 1]);
  assert.deepEqual([...itemPopularity(l, 3, { weighted: true })], [2, 0, 4]);
  assert.deepEqual([...itemPopularity(l, 3, { event: "nope" })], [0, 0, 0]);
});
