/**
 * The loss conformance suite (Hono's `common.case.test.ts`, implicit's test mixin): every loss
 * runs it with one line, `runLossContract("bpr", () => losses.bpr())`. It checks, in float64:
 * the analytic gradient against central finite differences, a finite loss, and masked (−∞) cells
 * giving zero gradient. Only tests import this file.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../math/rng.ts";
import type { Loss, ScoreContext } from "./types.ts";

export interface LossContractOptions {
  /** Finite-difference tolerance (absolute, on the gradient). Default 1e-6. */
  readonly tol?: number;
  /** Skip cells whose hinge-like kink lies within this distance (non-differentiable). Default 0. */
  readonly kinkMargin?: number;
}

/** A random nQ × nC batch with candidate ids, positive ids and log Q values. */
export function randomScoreBatch(
  rng: Rng,
  nQ: number,
  nC: number,
): { scores: Float64Array; ctx: ScoreContext } {
  const scores = new Float64Array(nQ * nC);
  for (let e = 0; e < scores.length; e++) scores[e] = rng.normal();
  const labels = new Int32Array(nQ);
  const posIds = new Int32Array(nQ);
  const candIds = new Int32Array(nQ * nC);
  const logQ = new Float32Array(nQ * nC);
  for (let i = 0; i < nQ; i++) {
    labels[i] = rng.int(nC);
    for (let c = 0; c < nC; c++) {
      candIds[i * nC + c] = rng.int(3 * nC);
      logQ[i * nC + c] = Math.log(0.001 + rng.next());
    }
    posIds[i] = candIds[i * nC + labels[i]];
  }
  return { scores, ctx: { nQ, nC, labels, posIds, candIds, logQ } };
}

/** Loss value at `scores` (copied, so transforms may rewrite it). */
export function lossAt(loss: Loss, scores: Float64Array, ctx: ScoreContext): number {
  return loss.forwardBackward(Float64Array.from(scores), ctx, new Float64Array(scores.length));
}

export function runLossContract(name: string, make: () => Loss, o: LossContractOptions = {}): void {
  const tol = o.tol ?? 1e-6;
  test(`${name}: gradient matches central finite differences (float64)`, () => {
    const rng = new Rng(11);
    for (const [nQ, nC] of [
      [1, 2],
      [3, 5],
      [4, 17],
    ]) {
      const loss = make();
      const { scores, ctx } = randomScoreBatch(rng, nQ, nC);
      const grad = new Float64Array(nQ * nC);
      const l0 = loss.forwardBackward(Float64Array.from(scores), ctx, grad);
      assert.ok(Number.isFinite(l0), `${name}: loss is ${l0}`);
      const h = 1e-5;
      for (let e = 0; e < scores.length; e++) {
        const up = Float64Array.from(scores);
        const dn = Float64Array.from(scores);
        up[e] += h;
        dn[e] -= h;
        const fd = (lossAt(loss, up, ctx) - lossAt(loss, dn, ctx)) / (2 * h);
        assert.ok(
          Math.abs(fd - grad[e]) < tol + 1e-4 * Math.abs(fd),
          `${name} ${nQ}×${nC} cell ${e}: analytic ${grad[e]} vs finite-difference ${fd}`,
        );
      }
    }
  });
  test(`${name}: a −∞ (masked) negative cell adds no loss and gets zero gradient`, () => {
    const loss = make();
    const rng = new Rng(5);
    const { scores, ctx } = randomScoreBatch(rng, 2, 4);
    const masked = Float64Array.from(scores);
    const c = (ctx.labels[0] + 1) % 4;
    masked[c] = Number.NEGATIVE_INFINITY;
    const g = new Float64Array(8);
    const l = loss.forwardBackward(masked, ctx, g);
    assert.ok(Number.isFinite(l), `${name}: loss with a masked cell is ${l}`);
    assert.equal(g[c], 0);
  });
}
