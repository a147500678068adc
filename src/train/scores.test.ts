import assert from "node:assert/strict";
import { test } from "node:test";
import { Gemm } from "../math/gemm-wasm.ts";
import { Rng } from "../math/rng.ts";
import { itemIndex, layoutOf, ScoreScratch, scoresBackward, scoresInto } from "./scores.ts";

/** Reference: every cell through itemIndex, in float64. */
function reference(
  L: ReturnType<typeof layoutOf>,
  Q: Float32Array,
  items: Float32Array,
  dS: Float32Array,
  nItemRows: number,
) {
  const { n, dim, nC } = L;
  const s = new Float64Array(n * nC);
  const dQ = new Float64Array(n * dim);
  const dI = new Float64Array(nItemRows * dim);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < nC; c++) {
      const k = itemIndex(L, i, c);
      const g = dS[i * nC + c];
      for (let p = 0; p < dim; p++) {
        s[i * nC + c] += Q[i * dim + p] * items[k * dim + p];
        dQ[i * dim + p] += g * items[k * dim + p];
        dI[k * dim + p] += g * Q[i * dim + p];
      }
    }
  return { s, dQ, dI };
}

for (const [inBatch, shared] of [
  [true, true],
  [false, true],
  [true, false],
  [false, false],
] as const)
  for (const density of [1, 0.02]) {
    test(`scores: forward and backward match the per-cell reference (inBatch ${inBatch}, shared ${shared}, dS density ${density})`, () => {
      const rng = new Rng(7);
      const n = 9;
      const dim = 12;
      const S = 37;
      const L = layoutOf(n, dim, inBatch, shared, S);
      const nItemRows = n + (shared ? S : n * S);
      const Q = new Float32Array(n * dim).map(() => rng.normal());
      const items = new Float32Array(nItemRows * dim).map(() => rng.normal());
      const dS = new Float32Array(n * L.nC).map(() => (rng.next() < density ? rng.normal() : 0));
      const gemm = new Gemm();
      const scores = new Float32Array(n * L.nC);
      scoresInto(L, Q, items, scores, gemm);
      const dQ = new Float32Array(n * dim);
      const dI = new Float32Array(nItemRows * dim);
      scoresBackward(L, Q, items, dS, dQ, dI, nItemRows, gemm, new ScoreScratch());
      const ref = reference(L, Q, items, dS, nItemRows);
      const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
        for (let e = 0; e < b.length; e++)
          assert.ok(Math.abs(a[e] - b[e]) < 1e-4 * (1 + Math.abs(b[e])), `${what}[${e}]: ${a[e]} vs ${b[e]}`);
      };
      close(scores, ref.s, "scores");
      close(dQ, ref.dQ, "dQ");
      close(dI, ref.dI, "dItems");
    });
  }
