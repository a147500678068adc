import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../math/rng.ts";
import { normalizeRowsBackward, normalizeRowsInto } from "./normalize.ts";

test("normalize: rows get unit norm and the backward matches finite differences", () => {
  const rng = new Rng(3);
  const n = 3;
  const dim = 5;
  const x = new Float32Array(n * dim).map(() => rng.normal());
  const w = new Float64Array(n * dim).map(() => rng.normal());
  // L(x) = Σ w·normalize(x), evaluated in float64
  const L = (v: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let nn = 0;
      for (let j = 0; j < dim; j++) nn += v[i * dim + j] ** 2;
      for (let j = 0; j < dim; j++) s += (w[i * dim + j] * v[i * dim + j]) / Math.sqrt(nn);
    }
    return s;
  };
  const y = Float32Array.from(x);
  const norms = new Float32Array(n);
  normalizeRowsInto(y, n, dim, norms);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += y[i * dim + j] ** 2;
    assert.ok(Math.abs(s - 1) < 1e-6);
  }
  const g = Float32Array.from(w);
  normalizeRowsBackward(y, norms, n, dim, g);
  const x64 = Float64Array.from(x);
  for (let e = 0; e < n * dim; e++) {
    const up = Float64Array.from(x64);
    const dn = Float64Array.from(x64);
    up[e] += 1e-6;
    dn[e] -= 1e-6;
    const fd = (L(up) - L(dn)) / 2e-6;
    assert.ok(Math.abs(fd - g[e]) < 1e-4, `cell ${e}: ${g[e]} vs ${fd}`);
  }
});
