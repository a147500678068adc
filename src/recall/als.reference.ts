/**
 * Slow, obviously-correct oracles for ALS (tests and `bench --check` only; implicit keeps its
 * `least_squares` the same way). Everything is dense over all nItems cells and in float64, so none of
 * the sparse rewriting of als-kernels.ts is trusted here.
 */
import type { Csr } from "../math/csr.ts";

/**
 * The closed form of one row (Hu, Koren & Volinsky 2008, eq. 4):
 *   x_u = (YᵀC_uY + λI)⁻¹ YᵀC_u p(u),
 * with C_u = diag(c_u1 … c_un) over all n items (1 where unobserved) and p(u) the 0/1 preference
 * vector. `items[t]` is observed with confidence `conf[t]`.
 */
export function closedFormRowReference(
  Y: Float32Array,
  nItems: number,
  f: number,
  items: Int32Array,
  conf: Float32Array,
  lambda: number,
): Float64Array {
  const { A, b } = normalEquationsReference(Y, nItems, f, items, conf, lambda);
  return solveDense(A, b, f);
}

/** A = YᵀC_uY + λI and b = YᵀC_u p(u), dense (f×f and f). */
export function normalEquationsReference(
  Y: Float32Array,
  nItems: number,
  f: number,
  items: Int32Array,
  conf: Float32Array,
  lambda: number,
): { A: Float64Array; b: Float64Array } {
  const c = new Float64Array(nItems).fill(1);
  const p = new Float64Array(nItems);
  for (let t = 0; t < items.length; t++) {
    c[items[t]] = conf[t];
    p[items[t]] = 1;
  }
  const A = new Float64Array(f * f);
  const b = new Float64Array(f);
  for (let i = 0; i < nItems; i++) {
    for (let a = 0; a < f; a++) {
      b[a] += c[i] * p[i] * Y[i * f + a];
      for (let q = 0; q < f; q++) A[a * f + q] += c[i] * Y[i * f + a] * Y[i * f + q];
    }
  }
  for (let a = 0; a < f; a++) A[a * f + a] += lambda;
  return { A, b };
}

/** ‖A x − b‖ / ‖b‖ of the row's normal equations (0 when b = 0 and x = 0). */
export function normalEquationResidual(
  Y: Float32Array,
  nItems: number,
  f: number,
  items: Int32Array,
  conf: Float32Array,
  lambda: number,
  x: Float32Array | Float64Array,
): number {
  const { A, b } = normalEquationsReference(Y, nItems, f, items, conf, lambda);
  let rr = 0;
  let bb = 0;
  for (let a = 0; a < f; a++) {
    let s = -b[a];
    for (let q = 0; q < f; q++) s += A[a * f + q] * x[q];
    rr += s * s;
    bb += b[a] * b[a];
  }
  return bb === 0 ? Math.sqrt(rr) : Math.sqrt(rr / bb);
}

/** Gaussian elimination with partial pivoting (copies A and b). */
export function solveDense(A0: Float64Array, b0: Float64Array, n: number): Float64Array {
  const A = A0.slice();
  const x = b0.slice();
  for (let k = 0; k < n; k++) {
    let piv = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A[i * n + k]) > Math.abs(A[piv * n + k])) piv = i;
    if (piv !== k) {
      for (let j = 0; j < n; j++) {
        const t = A[k * n + j];
        A[k * n + j] = A[piv * n + j];
        A[piv * n + j] = t;
      }
      const t = x[k];
      x[k] = x[piv];
      x[piv] = t;
    }
    for (let i = k + 1; i < n; i++) {
      const m = A[i * n + k] / A[k * n + k];
      for (let j = k; j < n; j++) A[i * n + j] -= m * A[k * n + j];
      x[i] -= m * x[k];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let j = i + 1; j < n; j++) s -= A[i * n + j] * x[j];
    x[i] = s / A[i * n + i];
  }
  return x;
}

/**
 * The weighted implicit loss over every cell:
 *   Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²),
 * c_ui = conf of the stored entry (aligned with ui's entries), 1 elsewhere.
 */
export function implicitLossReference(
  X: Float32Array,
  Y: Float32Array,
  f: number,
  ui: Csr,
  conf: Float32Array,
  lambda: number,
): number {
  let loss = 0;
  const c = new Float64Array(ui.nCols);
  for (let u = 0; u < ui.nRows; u++) {
    c.fill(1);
    const p = new Float64Array(ui.nCols);
    for (let e = ui.offsets[u]; e < ui.offsets[u + 1]; e++) {
      c[ui.indices[e]] = conf[e];
      p[ui.indices[e]] = 1;
    }
    for (let i = 0; i < ui.nCols; i++) {
      let s = 0;
      for (let a = 0; a < f; a++) s += X[u * f + a] * Y[i * f + a];
      loss += c[i] * (p[i] - s) * (p[i] - s);
    }
  }
  let reg = 0;
  for (let t = 0; t < X.length; t++) reg += X[t] * X[t];
  for (let t = 0; t < Y.length; t++) reg += Y[t] * Y[t];
  return loss + lambda * reg;
}

/**
 * Full ALS with closed-form row solves: `iterations` × (all users, then all items), in place on X
 * and Y (float32 storage, like the fast path). `iu`/`iuConf` is the transpose of `ui`/`uiConf`.
 */
export function alsReference(
  ui: Csr,
  uiConf: Float32Array,
  iu: Csr,
  iuConf: Float32Array,
  f: number,
  lambda: number,
  iterations: number,
  X: Float32Array,
  Y: Float32Array,
): void {
  const half = (m: Csr, conf: Float32Array, rows: Float32Array, fixed: Float32Array) => {
    for (let r = 0; r < m.nRows; r++) {
      const e0 = m.offsets[r];
      const e1 = m.offsets[r + 1];
      const x =
        e0 === e1
          ? new Float64Array(f)
          : closedFormRowReference(
              fixed,
              m.nCols,
              f,
              m.indices.subarray(e0, e1),
              conf.subarray(e0, e1),
              lambda,
            );
      for (let a = 0; a < f; a++) rows[r * f + a] = x[a];
    }
  };
  for (let it = 0; it < iterations; it++) {
    half(ui, uiConf, X, Y);
    half(iu, iuConf, Y, X);
  }
}
