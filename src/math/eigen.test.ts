import assert from "node:assert/strict";
import { test } from "node:test";
import { orthonormalizeColumns, symmetricEigen, topEigenpairs } from "./eigen.ts";
import { Rng } from "./rng.ts";

/** A = W diag(λ) Wᵀ with a random orthogonal W (Gram–Schmidt of a Gaussian matrix). */
function psdWithSpectrum(lambda: readonly number[], seed: number): Float64Array {
  const n = lambda.length;
  const rng = new Rng(seed);
  const w: number[][] = [];
  while (w.length < n) {
    const v = Array.from({ length: n }, () => rng.normal());
    for (const c of w) {
      const d = c.reduce((s, x, i) => s + x * v[i], 0);
      for (let i = 0; i < n; i++) v[i] -= d * c[i];
    }
    const norm = Math.hypot(...v);
    w.push(v.map((x) => x / norm));
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) for (let c = 0; c < n; c++) a[i * n + j] += w[c][i] * lambda[c] * w[c][j];
  return a;
}

/** The operator x ← A x on a row-major n × cols float32 block. */
function denseOperator(a: Float64Array, n: number) {
  return (x: Float32Array, cols: number) => {
    const y = new Float64Array(n * cols);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < n; p++) {
        const aip = a[i * n + p];
        for (let j = 0; j < cols; j++) y[i * cols + j] += aip * x[p * cols + j];
      }
    x.set(y);
  };
}

test("symmetricEigen: known answer [[2,1],[1,2]] → 3, 1 with (1,1)/√2, (1,−1)/√2", () => {
  const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
  assert.ok(Math.abs(values[0] - 3) < 1e-12 && Math.abs(values[1] - 1) < 1e-12);
  // column 0 is ±(1, 1)/√2
  assert.ok(Math.abs(Math.abs(vectors[0]) - Math.SQRT1_2) < 1e-12);
  assert.ok(Math.abs(vectors[0] - vectors[2]) < 1e-12);
});

test("symmetricEigen: A V = V Λ and VᵀV = I on a random symmetric matrix, values descending", () => {
  const n = 12;
  const rng = new Rng(3);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  const { values, vectors: v } = symmetricEigen(a, n);
  for (let j = 1; j < n; j++) assert.ok(values[j - 1] >= values[j]);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let av = 0;
      let vtv = 0;
      for (let p = 0; p < n; p++) {
        av += a[i * n + p] * v[p * n + j];
        vtv += v[p * n + i] * v[p * n + j];
      }
      assert.ok(Math.abs(av - v[i * n + j] * values[j]) < 1e-10, `(AV − VΛ)[${i},${j}]`);
      assert.ok(Math.abs(vtv - (i === j ? 1 : 0)) < 1e-12, `(VᵀV)[${i},${j}]`);
    }
});

test("topEigenpairs recovers the leading eigenpairs of a known spectrum (vectors up to sign)", () => {
  const n = 60;
  const lambda = Array.from({ length: n }, (_, j) => 0.7 ** j);
  const a = psdWithSpectrum(lambda, 11);
  const k = 5;
  const { values, vectors } = topEigenpairs(denseOperator(a, n), n, k, { seed: 2 });
  const exact = symmetricEigen(a, n);
  for (let j = 0; j < k; j++) {
    assert.ok(Math.abs(values[j] - lambda[j]) < 1e-6, `λ${j}: ${values[j]} vs ${lambda[j]}`);
    let d = 0;
    for (let i = 0; i < n; i++) d += vectors[i * k + j] * exact.vectors[i * n + j];
    assert.ok(Math.abs(Math.abs(d) - 1) < 1e-5, `|⟨v${j}, exact⟩| = ${Math.abs(d)}`);
  }
});

test("topEigenpairs on an operator of rank 3 < block width: the basis is re-drawn, zeros beyond the rank", () => {
  const n = 30;
  const lambda = [1, 0.5, 0.25, ...new Array(n - 3).fill(0)];
  const a = psdWithSpectrum(lambda, 5);
  const { values, vectors } = topEigenpairs(denseOperator(a, n), n, 5, { seed: 1 });
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(values[j] - lambda[j]) < 1e-6, `λ${j} = ${values[j]}`);
  for (let j = 3; j < 5; j++) assert.ok(Math.abs(values[j]) < 1e-6, `λ${j} = ${values[j]}`);
  for (let p = 0; p < 5; p++)
    for (let q = 0; q < 5; q++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += vectors[i * 5 + p] * vectors[i * 5 + q];
      assert.ok(Math.abs(d - (p === q ? 1 : 0)) < 1e-5, `(VᵀV)[${p},${q}] = ${d}`);
    }
});

test("orthonormalizeColumns: QᵀQ = I and Q spans the input columns", () => {
  const n = 50;
  const b = 8;
  const rng = new Rng(9);
  // badly scaled columns (1 … 1e-4), as after a product with a decaying spectrum
  const y = Float32Array.from({ length: n * b }, (_, t) => rng.normal() * 10 ** (-(t % b) / 2));
  const q = y.slice();
  orthonormalizeColumns(q, n, b, rng);
  for (let p = 0; p < b; p++) {
    for (let r = 0; r < b; r++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += q[i * b + p] * q[i * b + r];
      assert.ok(Math.abs(d - (p === r ? 1 : 0)) < 1e-5, `(QᵀQ)[${p},${r}] = ${d}`);
    }
    // y's column p minus its projection on span(Q) vanishes
    const c = new Float64Array(b);
    for (let r = 0; r < b; r++) for (let i = 0; i < n; i++) c[r] += q[i * b + r] * y[i * b + p];
    let res = 0;
    let norm = 0;
    for (let i = 0; i < n; i++) {
      let proj = 0;
      for (let r = 0; r < b; r++) proj += c[r] * q[i * b + r];
      res += (y[i * b + p] - proj) ** 2;
      norm += y[i * b + p] ** 2;
    }
    assert.ok(Math.sqrt(res / norm) < 1e-4, `column ${p}: relative residual ${Math.sqrt(res / norm)}`);
  }
});
