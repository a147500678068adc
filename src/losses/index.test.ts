import assert from "node:assert/strict";
import { test } from "node:test";
import { lossAt, runLossContract } from "./contract.ts";
import * as losses from "./index.ts";
import { transforms as t } from "./index.ts";
import type { ScoreContext } from "./types.ts";

runLossContract("softmax", () => losses.softmax());
runLossContract("binary (NEG)", () => losses.binary());
runLossContract("bpr", () => losses.bpr());
runLossContract("hinge", () => losses.hinge({ margin: 0.5 }), { tol: 1e-5 });
runLossContract("nce = binary + logQ", () => losses.nce());
runLossContract("sampled softmax (logQ, accidental hits)", () => losses.sampledSoftmax());
runLossContract("in-batch softmax τ=0.05", () => losses.inBatchSoftmax({ temperature: 0.05 }));
runLossContract("ccl (cosine contrastive)", () => losses.ccl({ margin: 0.3, negativeWeight: 5 }), {
  tol: 1e-5,
});
runLossContract("ccl, sum reduction", () => losses.ccl({ margin: -0.2, reduction: "sum" }), { tol: 1e-5 });
runLossContract("softmax, sum reduction", () => losses.softmax({ reduction: "sum" }));
runLossContract("bpr + temperature", () => losses.bpr({ transforms: [t.temperature(0.2)] }));

const ctx1 = (nC: number, label = 0): ScoreContext => ({
  nQ: 1,
  nC,
  labels: Int32Array.of(label),
  posIds: Int32Array.of(7),
  candIds: null,
  logQ: null,
});

test("hand-derived values", () => {
  // softmax over [2, 0, 0] with label 0: −2 + log(e² + 2) = log(1 + 2e⁻²)
  assert.ok(
    Math.abs(lossAt(losses.softmax(), Float64Array.of(2, 0, 0), ctx1(3)) - Math.log(1 + 2 * Math.exp(-2))) <
      1e-12,
  );
  // BPR with s⁺ = 1, s⁻ = 1: log 2
  assert.ok(Math.abs(lossAt(losses.bpr(), Float64Array.of(1, 1), ctx1(2)) - Math.LN2) < 1e-12);
  // binary with [0, 0]: 2 log 2
  assert.ok(Math.abs(lossAt(losses.binary(), Float64Array.of(0, 0), ctx1(2)) - 2 * Math.LN2) < 1e-12);
  // hinge m=1, s⁺ = 0.5, s⁻ = 0.2: 1 − 0.5 + 0.2 = 0.7
  assert.ok(Math.abs(lossAt(losses.hinge(), Float64Array.of(0.5, 0.2), ctx1(2)) - 0.7) < 1e-12);
  // ccl m=0.5 w=4, s⁺ = 0.8, negatives [0.9, 0.1, 0.7]: (1 − 0.8) + 4/3 · (0.4 + 0 + 0.2) = 1.0
  assert.ok(
    Math.abs(
      lossAt(losses.ccl({ margin: 0.5, negativeWeight: 4 }), Float64Array.of(0.8, 0.9, 0.1, 0.7), ctx1(4)) -
        1,
    ) < 1e-12,
  );
  // mean reduction divides by rows
  const two: ScoreContext = { ...ctx1(2), nQ: 2, labels: Int32Array.of(0, 0), posIds: Int32Array.of(1, 2) };
  assert.ok(Math.abs(lossAt(losses.bpr(), Float64Array.of(1, 1, 1, 1), two) - Math.LN2) < 1e-12);
});

test("accidental hits: a negative equal to the row's positive is masked, the label is not", () => {
  const loss = losses.softmax({ transforms: [t.accidentalHits()] });
  // row 0: candidates [7, 7, 3], label 0 (item 7). Column 1 is an accidental hit.
  const ctx: ScoreContext = { ...ctx1(3), candIds: Int32Array.of(7, 7, 3) };
  const s = Float64Array.of(1, 5, 0);
  const g = new Float64Array(3);
  const l = loss.forwardBackward(s, ctx, g);
  assert.equal(s[1], Number.NEGATIVE_INFINITY);
  assert.equal(g[1], 0);
  // softmax over [1, 0] at label 0: log(1 + e⁻¹)
  assert.ok(Math.abs(l - Math.log(1 + Math.exp(-1))) < 1e-12);
});

test("logQ sign: a popular negative is penalised less, a popular positive must score higher", () => {
  // Two items with equal raw scores; item A is popular (Q = 0.5), B rare (Q = 0.001).
  // After G = s − log Q the popular one's logit drops, so as a NEGATIVE it contributes less loss...
  const loss = losses.softmax({ transforms: [t.logQ()] });
  const ctxPop: ScoreContext = { ...ctx1(2), logQ: Float32Array.of(Math.log(0.01), Math.log(0.5)) };
  const ctxRare: ScoreContext = { ...ctx1(2), logQ: Float32Array.of(Math.log(0.01), Math.log(0.001)) };
  const s = Float64Array.of(1, 1);
  const gPop = new Float64Array(2);
  const gRare = new Float64Array(2);
  loss.forwardBackward(Float64Array.from(s), ctxPop, gPop);
  loss.forwardBackward(Float64Array.from(s), ctxRare, gRare);
  assert.ok(gPop[1] < gRare[1], "popular negative pushed down less than a rare one");
  // ...and as a POSITIVE it needs a higher raw score for the same loss: the learned u·t of a
  // popular item is pushed up less by its many positives, so popularity bias shrinks at serving.
  const ctxPosPop: ScoreContext = { ...ctx1(2), logQ: Float32Array.of(Math.log(0.5), Math.log(0.01)) };
  const ctxPosRare: ScoreContext = { ...ctx1(2), logQ: Float32Array.of(Math.log(0.001), Math.log(0.01)) };
  assert.ok(lossAt(loss, s, ctxPosPop) > lossAt(loss, s, ctxPosRare));
});

test("temperature scales the gradient by 1/τ", () => {
  const s = Float64Array.of(0.3, 0.1, -0.2);
  const g1 = new Float64Array(3);
  const g2 = new Float64Array(3);
  losses.softmax().forwardBackward(
    Float64Array.from(s).map((x) => x / 0.1),
    ctx1(3),
    g1,
  );
  losses.softmax({ transforms: [t.temperature(0.1)] }).forwardBackward(Float64Array.from(s), ctx1(3), g2);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(g2[c] - g1[c] / 0.1) < 1e-9);
});

test("pairwise form matches the kernel on one pair", () => {
  for (const loss of [losses.bpr(), losses.hinge({ margin: 1 })]) {
    const pw = loss.pairwise;
    assert.ok(pw !== null);
    const out = new Float64Array(2);
    pw.lossAndGrad(0.3 - -0.4, out);
    const g = new Float64Array(2);
    const l = loss.forwardBackward(Float64Array.of(0.3, -0.4), ctx1(2), g);
    assert.ok(Math.abs(out[0] - l) < 1e-12);
    assert.ok(Math.abs(out[1] - g[0]) < 1e-12 && Math.abs(out[1] + g[1]) < 1e-12);
  }
  assert.equal(losses.bpr({ transforms: [t.logQ()] }).pairwise, null);
});
