import type { ScoreTransform } from "../types.ts";

/**
 * Accidental-hit removal (TF `remove_accidental_hits`): a negative cell whose item equals the
 * row's positive is masked to −∞ (TF adds −FLOAT_MAX), so it adds nothing to the softmax
 * denominator nor to any binary/pairwise term, and its gradient is zero. The label column itself
 * is never masked. Typical under in-batch negatives, where a popular item is often the positive of
 * several rows of one batch.
 */
export function accidentalHits(): ScoreTransform {
  return {
    name: "accidentalHits",
    needs: { candidateIds: true },
    forward(s, ctx) {
      const ids = ctx.candIds as Int32Array;
      const { nQ, nC, labels, posIds } = ctx;
      for (let i = 0; i < nQ; i++) {
        const p = posIds[i];
        const o = i * nC;
        const y = labels[i];
        for (let c = 0; c < nC; c++) if (ids[o + c] === p && c !== y) s[o + c] = Number.NEGATIVE_INFINITY;
      }
    },
    backward(ds, ctx) {
      const ids = ctx.candIds as Int32Array;
      const { nQ, nC, labels, posIds } = ctx;
      for (let i = 0; i < nQ; i++) {
        const p = posIds[i];
        const o = i * nC;
        const y = labels[i];
        for (let c = 0; c < nC; c++) if (ids[o + c] === p && c !== y) ds[o + c] = 0;
      }
    },
  };
}
