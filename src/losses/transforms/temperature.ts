import { assert } from "../../errors.ts";
import type { ScoreTransform } from "../types.ts";

/**
 * Temperature (spec 5-30): s ← s / τ. Small τ magnifies every badly-ranked negative (precision,
 * "记忆性"); large τ is gentler (diversity, "扩展性"). Backward: ds ← ds / τ.
 * @example losses.softmax({ transforms: [transforms.temperature(0.05)] })
 */
export function temperature(tau: number): ScoreTransform {
  assert(
    tau > 0 && Number.isFinite(tau),
    () => `transforms.temperature: τ must be a finite number > 0, got ${tau}`,
  );
  const inv = 1 / tau;
  return {
    name: `temperature(${tau})`,
    needs: {},
    forward(s, ctx) {
      const n = ctx.nQ * ctx.nC;
      for (let e = 0; e < n; e++) s[e] *= inv;
    },
    backward(ds, ctx) {
      const n = ctx.nQ * ctx.nC;
      for (let e = 0; e < n; e++) ds[e] *= inv;
    },
  };
}
