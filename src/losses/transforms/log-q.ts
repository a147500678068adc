import type { ScoreTransform } from "../types.ts";

/**
 * Sampling-bias correction (spec 5-3, 5-11, 5-30; TF `subtract_log_q`): G(u,t) = s(u,t) − log Q(t)
 * on every column, the positive included. A popular item has a large Q, so its logit is lowered
 * in training and the model must raise u·t less for it: popularity bias shrinks. Training only;
 * serving scores plain u·t. The gradient passes through unchanged (log Q is a constant).
 * Cells that are −∞ (masked) stay −∞.
 * @example losses.softmax({ transforms: [transforms.temperature(0.07), transforms.logQ()] })
 */
export function logQ(): ScoreTransform {
  return {
    name: "logQ",
    needs: { logQ: true },
    forward(s, ctx) {
      const q = ctx.logQ as Float32Array;
      const n = ctx.nQ * ctx.nC;
      for (let e = 0; e < n; e++) s[e] -= q[e];
    },
    backward() {},
  };
}
