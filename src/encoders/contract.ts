/**
 * The encoder conformance suite: for L = Σ w ⊙ forward(ids) (ids with repeats), the update an
 * encoder's `backward` hands its optimizer equals −lr·∂L/∂θ computed by finite differences in
 * float64 through `forwardInto`; forward is deterministic and `exportAll` agrees with it.
 * Only tests import this file.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";
import type { Encoder, EncoderContext, SparseOptimizer } from "./types.ts";

/** SGD with lr 1 and no L2, written here so the suite depends on nothing above encoders. */
export const unitSgd: SparseOptimizer = {
  name: "unit-sgd",
  sgd: { lr: 1, l2: 0 },
  scaleLearningRate() {},
  nextStep() {},
  bind(table, _rows, dim) {
    return {
      update(row, g, gOff) {
        for (let j = 0; j < dim; j++) table[row * dim + j] -= g[gOff + j];
      },
    };
  },
};

export function encoderContext(
  nRows: number,
  data: Dataset,
  extra: Partial<EncoderContext> = {},
): EncoderContext {
  return { nRows, rng: new Rng(1), data, bags: null, optimizer: unitSgd, sharedMemory: false, ...extra };
}

export function runEncoderContract(name: string, make: () => Encoder, ctx: () => EncoderContext): void {
  test(`${name}: backward's update is −∂L/∂θ (finite differences, float64)`, () => {
    const enc = make();
    const c = ctx();
    enc.prepare(c);
    const d = enc.dim;
    const rng = new Rng(5);
    const ids = Int32Array.of(0, 2, 2, c.nRows - 1, 1);
    const n = ids.length;
    const w = new Float32Array(n * d).map(() => rng.normal());
    const out = new Float32Array(n * d);
    const L = (): number => {
      enc.forwardInto(ids, n, out);
      let s = 0;
      for (let e = 0; e < n * d; e++) s += w[e] * out[e];
      return s;
    };
    const params = enc.parameters();
    const before = params.map((p) => Float64Array.from(p));
    // finite differences; L is linear in θ for sum/lookup encoders, so h can be large
    const fd = params.map((p) => {
      const g = new Float64Array(p.length);
      for (let e = 0; e < p.length; e++) {
        const v = p[e];
        p[e] = v + 0.5;
        const up = L();
        p[e] = v - 0.5;
        const dn = L();
        p[e] = v;
        g[e] = up - dn;
      }
      return g;
    });
    enc.backward(ids, n, w);
    params.forEach((p, k) => {
      for (let e = 0; e < p.length; e++) {
        const step = p[e] - before[k][e];
        assert.ok(
          Math.abs(step + fd[k][e]) < 1e-4,
          `param ${k}[${e}]: update ${step}, expected ${-fd[k][e]}`,
        );
      }
    });
  });
  test(`${name}: exportAll agrees with forwardInto`, () => {
    const enc = make();
    const c = ctx();
    enc.prepare(c);
    const all = enc.exportAll();
    assert.equal(all.length, c.nRows * enc.dim);
    const out = new Float32Array(enc.dim);
    enc.forwardInto(Int32Array.of(c.nRows - 1), 1, out);
    assert.deepEqual(out, all.slice((c.nRows - 1) * enc.dim));
  });
}
