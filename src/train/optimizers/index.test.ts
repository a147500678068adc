import assert from "node:assert/strict";
import { test } from "node:test";
import { adagrad, adam, sgd } from "./index.ts";

test("sgd: w ← w − lr(g + l2·w) on the given row only", () => {
  const t = Float32Array.of(1, 2, 3, 4);
  const u = sgd({ lr: 0.5, l2: 0.1 }).bind(t, 2, 2, false);
  u.update(1, Float32Array.of(0, 1, 2), 1);
  // row 1 = [3, 4], g = [1, 2]: 3 − 0.5(1 + 0.3) = 2.35, 4 − 0.5(2 + 0.4) = 2.8
  assert.deepEqual(
    Array.from(t, (x) => Number(x.toFixed(5))),
    [1, 2, 2.35, 2.8],
  );
});

test("adagrad: first step moves by lr·g/√(h0 + g²)", () => {
  const t = Float32Array.of(0);
  const u = adagrad({ lr: 0.1, initialAccumulator: 0 }).bind(t, 1, 1, false);
  u.update(0, Float32Array.of(2), 0);
  assert.ok(Math.abs(t[0] + 0.1) < 1e-7); // −0.1·2/√4
});

test("lazy adam: first step is −lr·sign(g); untouched rows keep their moments", () => {
  const opt = adam({ lr: 0.01 });
  const t = Float32Array.of(0, 0);
  const u = opt.bind(t, 2, 1, false);
  opt.nextStep();
  u.update(0, Float32Array.of(5), 0);
  assert.ok(Math.abs(t[0] + 0.01) < 1e-6);
  assert.equal(t[1], 0);
  opt.nextStep();
  u.update(1, Float32Array.of(-3), 0);
  // row 1's first own update at global step 2: m = 0.1·(−3), v = 0.001·9,
  // step = 0.01·√(1 − .999²)/(1 − .9²) · m/√v
  const expected = ((0.01 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.81)) * (-0.3 / Math.sqrt(0.009));
  assert.ok(Math.abs(t[1] + expected) < 1e-6, `${t[1]} vs ${-expected}`);
});

test("scaleLearningRate: sgd exposes the scaled rate (fused kernels and lrDecay read it)", () => {
  const o = sgd({ lr: 0.1, l2: 0.01 });
  o.scaleLearningRate(0.5);
  assert.deepEqual(o.sgd, { lr: 0.05, l2: 0.01 });
  const t = Float32Array.of(1);
  o.bind(t, 1, 1, false).update(0, Float32Array.of(1), 0);
  assert.ok(Math.abs(t[0] - (1 - 0.05 * 1.01)) < 1e-7);
});
