/**
 * Typed-array kernels of implicit ALS (Hu, Koren & Volinsky 2008; spec §5.1.3), shared by the
 * in-process path (`workers: 0`) and `als.worker.ts`. Plain functions over flat row-major
 * Float32Array factor tables `X[u*f + j]`, CSR arrays and numbers; all scratch is passed in,
 * nothing allocates per row. Sums run in JS doubles and are stored as f32.
 *
 * Notation for one row u of the side being solved (users, or items with the roles swapped):
 *   Y      the fixed side's factors (nFixed × f), G = YᵀY + λI (f × f, float64)
 *   c_ui   confidence of observed cell (u, i) (`conf`, aligned with the CSR entries); 1 elsewhere
 *   p_ui   preference: 1 for observed cells, 0 elsewhere
 * Normal equations of x_u (the closed form):
 *   (YᵀC_uY + λI) x_u = YᵀC_u p(u)   with   YᵀC_uY = YᵀY + Σ_{i∈I(u)} (c_ui − 1) y_i y_iᵀ,
 *                                             YᵀC_u p(u) = Σ_{i∈I(u)} c_ui y_i,
 * so one product A·v costs G·v (f²) plus two passes of f over the row's items, never nItems.
 */

/** Rows per work unit handed to a worker (dynamic scheduling; results never depend on it). */
export const ROW_CHUNK = 256;
/** Rows per partial Gram block: partials are summed in block order, so YᵀY is bit-identical for any worker count. */
export const GRAM_CHUNK = 2048;

/**
 * out[0 .. f*f) += Σ_{i∈[rowFrom,rowTo)} y_i y_iᵀ (upper triangle a ≤ b only; call `symmetrizeInto` after).
 * 4×4 register tiles of G over 64-row strips of Y, so each load of Y feeds 4 multiply-adds.
 */
export function gramAddInto(
  Y: Float32Array,
  f: number,
  rowFrom: number,
  rowTo: number,
  out: Float64Array,
  outOff: number,
): void {
  const f4 = f & ~3;
  for (let r0 = rowFrom; r0 < rowTo; r0 += 64) {
    const r1 = Math.min(rowTo, r0 + 64);
    for (let a = 0; a < f4; a += 4) {
      for (let b = a; b < f4; b += 4) {
        let s00 = 0,
          s01 = 0,
          s02 = 0,
          s03 = 0;
        let s10 = 0,
          s11 = 0,
          s12 = 0,
          s13 = 0;
        let s20 = 0,
          s21 = 0,
          s22 = 0,
          s23 = 0;
        let s30 = 0,
          s31 = 0,
          s32 = 0,
          s33 = 0;
        for (let i = r0; i < r1; i++) {
          const o = i * f;
          const x0 = Y[o + a];
          const x1 = Y[o + a + 1];
          const x2 = Y[o + a + 2];
          const x3 = Y[o + a + 3];
          const y0 = Y[o + b];
          const y1 = Y[o + b + 1];
          const y2 = Y[o + b + 2];
          const y3 = Y[o + b + 3];
          s00 += x0 * y0;
          s01 += x0 * y1;
          s02 += x0 * y2;
          s03 += x0 * y3;
          s10 += x1 * y0;
          s11 += x1 * y1;
          s12 += x1 * y2;
          s13 += x1 * y3;
          s20 += x2 * y0;
          s21 += x2 * y1;
          s22 += x2 * y2;
          s23 += x2 * y3;
          s30 += x3 * y0;
          s31 += x3 * y1;
          s32 += x3 * y2;
          s33 += x3 * y3;
        }
        const o0 = outOff + a * f + b;
        const o1 = o0 + f;
        const o2 = o1 + f;
        const o3 = o2 + f;
        out[o0] += s00;
        out[o0 + 1] += s01;
        out[o0 + 2] += s02;
        out[o0 + 3] += s03;
        out[o1] += s10;
        out[o1 + 1] += s11;
        out[o1 + 2] += s12;
        out[o1 + 3] += s13;
        out[o2] += s20;
        out[o2 + 1] += s21;
        out[o2 + 2] += s22;
        out[o2 + 3] += s23;
        out[o3] += s30;
        out[o3 + 1] += s31;
        out[o3 + 2] += s32;
        out[o3 + 3] += s33;
      }
    }
    // Columns past the last multiple of 4 (f not divisible by 4): plain loops.
    for (let a = 0; a < f; a++) {
      for (let b = Math.max(a, f4); b < f; b++) {
        let s = 0;
        for (let i = r0; i < r1; i++) s += Y[i * f + a] * Y[i * f + b];
        out[outOff + a * f + b] += s;
      }
    }
  }
}

/** Copies the upper triangle of the f×f matrix g onto the lower one and adds `diag` to the diagonal. */
export function symmetrizeInto(g: Float64Array, f: number, diag: number): void {
  for (let a = 0; a < f; a++) {
    g[a * f + a] += diag;
    for (let b = a + 1; b < f; b++) g[b * f + a] = g[a * f + b];
  }
}

/** out = G·v for the f×f row-major G (4 rows at a time: each v[b] load feeds 4 multiply-adds). */
function gemvInto(G: Float64Array, v: Float64Array, out: Float64Array, f: number): void {
  let a = 0;
  for (; a + 3 < f; a += 4) {
    const g0 = a * f;
    const g1 = g0 + f;
    const g2 = g1 + f;
    const g3 = g2 + f;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let b = 0; b < f; b++) {
      const vb = v[b];
      s0 += G[g0 + b] * vb;
      s1 += G[g1 + b] * vb;
      s2 += G[g2 + b] * vb;
      s3 += G[g3 + b] * vb;
    }
    out[a] = s0;
    out[a + 1] = s1;
    out[a + 2] = s2;
    out[a + 3] = s3;
  }
  for (; a < f; a++) {
    let s = 0;
    for (let b = 0; b < f; b++) s += G[a * f + b] * v[b];
    out[a] = s;
  }
}

/** Σ_j Y[yo+j]·v[j] (4 accumulators). */
function dotYv(Y: Float32Array, yo: number, v: Float64Array, f: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < f; j += 4) {
    s0 += Y[yo + j] * v[j];
    s1 += Y[yo + j + 1] * v[j + 1];
    s2 += Y[yo + j + 2] * v[j + 2];
    s3 += Y[yo + j + 3] * v[j + 3];
  }
  for (; j < f; j++) s0 += Y[yo + j] * v[j];
  return s0 + s1 + s2 + s3;
}

/** out[j] += s·Y[yo+j]. */
function axpyYInto(s: number, Y: Float32Array, yo: number, out: Float64Array, f: number): void {
  let j = 0;
  for (; j + 3 < f; j += 4) {
    out[j] += s * Y[yo + j];
    out[j + 1] += s * Y[yo + j + 1];
    out[j + 2] += s * Y[yo + j + 2];
    out[j + 3] += s * Y[yo + j + 3];
  }
  for (; j < f; j++) out[j] += s * Y[yo + j];
}

/**
 * Conjugate-gradient ALS update (Takács, Pilászy & Tikk 2011; implicit's `_least_squares_cg`) of rows
 * [rowFrom, rowTo) of X, warm-started from the current X, `cgSteps` steps each:
 *   r = b − A x = −G x + Σ_i (c_i − (c_i − 1) y_i·x) y_i ;  p = r
 *   repeat: Ap = G p + Σ_i (c_i − 1)(y_i·p) y_i ;  α = rᵀr / pᵀAp ;  x += α p ;  r −= α Ap ;
 *           p = r + (r'ᵀr' / rᵀr) p
 * Rows with no observed cells get x = 0 (their optimum: b = 0). `reg[u]` is row u's regulariser
 * beyond the λ inside G (0 for plain λ; see `regularizationExponent`), so A = G + reg[u]·I + ….
 * Scratch: four Float64Array(f).
 */
export function cgSolveRows(
  X: Float32Array,
  Y: Float32Array,
  f: number,
  offsets: Int32Array,
  indices: Int32Array,
  conf: Float32Array,
  G: Float64Array,
  reg: Float32Array,
  rowFrom: number,
  rowTo: number,
  cgSteps: number,
  x: Float64Array,
  r: Float64Array,
  p: Float64Array,
  ap: Float64Array,
): void {
  for (let u = rowFrom; u < rowTo; u++) {
    const xo = u * f;
    const e0 = offsets[u];
    const e1 = offsets[u + 1];
    if (e0 === e1) {
      for (let j = 0; j < f; j++) X[xo + j] = 0;
      continue;
    }
    for (let j = 0; j < f; j++) x[j] = X[xo + j];
    const d = reg[u];
    gemvInto(G, x, r, f);
    for (let j = 0; j < f; j++) r[j] = -(r[j] + d * x[j]);
    for (let e = e0; e < e1; e++) {
      const yo = indices[e] * f;
      const c = conf[e];
      axpyYInto(c - (c - 1) * dotYv(Y, yo, x, f), Y, yo, r, f);
    }
    let rsold = 0;
    for (let j = 0; j < f; j++) {
      p[j] = r[j];
      rsold += r[j] * r[j];
    }
    if (rsold < 1e-20) continue; // already solved; x unchanged
    for (let step = 0; step < cgSteps; step++) {
      gemvInto(G, p, ap, f);
      for (let j = 0; j < f; j++) ap[j] += d * p[j];
      for (let e = e0; e < e1; e++) {
        const yo = indices[e] * f;
        axpyYInto((conf[e] - 1) * dotYv(Y, yo, p, f), Y, yo, ap, f);
      }
      let pap = 0;
      for (let j = 0; j < f; j++) pap += p[j] * ap[j];
      if (!(pap > 0)) break; // A is positive definite; pap ≤ 0 only from round-off at the solution
      const alpha = rsold / pap;
      let rsnew = 0;
      for (let j = 0; j < f; j++) {
        x[j] += alpha * p[j];
        const rj = r[j] - alpha * ap[j];
        r[j] = rj;
        rsnew += rj * rj;
      }
      if (rsnew < 1e-20) break;
      const beta = rsnew / rsold;
      for (let j = 0; j < f; j++) p[j] = r[j] + beta * p[j];
      rsold = rsnew;
    }
    for (let j = 0; j < f; j++) X[xo + j] = x[j];
  }
}

/**
 * Exact solve of one row's normal equations by Cholesky, in float64:
 *   A = G + d·I + Σ_e (w_e − 1) y_e y_eᵀ,  b = Σ_e w_e y_e,  x = A⁻¹ b,
 * for the entries e ∈ [e0, e1) of (`items`, `conf`). Used by `solver: "cholesky"` and by fold-in.
 * Scratch: A (f·f) and b (f) Float64Arrays. Writes x into out[outOff ..]. Returns false when A is not
 * positive definite (λ = 0 with too few interactions); out is then zeroed.
 */
export function choleskySolveRowInto(
  Y: Float32Array,
  f: number,
  items: Int32Array,
  conf: Float32Array,
  e0: number,
  e1: number,
  G: Float64Array,
  d: number,
  A: Float64Array,
  b: Float64Array,
  out: Float32Array,
  outOff: number,
): boolean {
  for (let t = 0; t < f * f; t++) A[t] = G[t];
  for (let a = 0; a < f; a++) A[a * f + a] += d;
  for (let j = 0; j < f; j++) b[j] = 0;
  for (let e = e0; e < e1; e++) {
    const yo = items[e] * f;
    const c = conf[e];
    const w = c - 1;
    for (let a = 0; a < f; a++) {
      const ya = Y[yo + a];
      b[a] += c * ya;
      const wa = w * ya;
      const ro = a * f;
      for (let q = 0; q <= a; q++) A[ro + q] += wa * Y[yo + q];
    }
  }
  // In-place Cholesky on the lower triangle: A = L Lᵀ.
  for (let j = 0; j < f; j++) {
    let d = A[j * f + j];
    for (let q = 0; q < j; q++) d -= A[j * f + q] * A[j * f + q];
    if (!(d > 0)) {
      for (let a = 0; a < f; a++) out[outOff + a] = 0;
      return false;
    }
    d = Math.sqrt(d);
    A[j * f + j] = d;
    for (let i = j + 1; i < f; i++) {
      let s = A[i * f + j];
      for (let q = 0; q < j; q++) s -= A[i * f + q] * A[j * f + q];
      A[i * f + j] = s / d;
    }
  }
  // L z = b, then Lᵀ x = z (both in b).
  for (let i = 0; i < f; i++) {
    let s = b[i];
    for (let q = 0; q < i; q++) s -= A[i * f + q] * b[q];
    b[i] = s / A[i * f + i];
  }
  for (let i = f - 1; i >= 0; i--) {
    let s = b[i];
    for (let q = i + 1; q < f; q++) s -= A[q * f + i] * b[q];
    b[i] = s / A[i * f + i];
  }
  for (let a = 0; a < f; a++) out[outOff + a] = b[a];
  return true;
}

/** Exact (Cholesky) ALS update of rows [rowFrom, rowTo) of X; empty rows get 0. */
export function choleskySolveRows(
  X: Float32Array,
  Y: Float32Array,
  f: number,
  offsets: Int32Array,
  indices: Int32Array,
  conf: Float32Array,
  G: Float64Array,
  reg: Float32Array,
  rowFrom: number,
  rowTo: number,
  A: Float64Array,
  b: Float64Array,
): void {
  for (let u = rowFrom; u < rowTo; u++) {
    choleskySolveRowInto(Y, f, indices, conf, offsets[u], offsets[u + 1], G, reg[u], A, b, X, u * f);
  }
}

/**
 * The rows' share of the weighted implicit loss (without the fixed side's regulariser):
 *   Σ_u [ Σ_{all i} c_ui (p_ui − x_u·y_i)² + λ_u‖x_u‖² ]
 *   = Σ_u [ x_uᵀ(YᵀY + λ_u I)x_u + Σ_{i∈I(u)} ( c_ui (1 − s_ui)² − s_ui² ) ],   s_ui = x_u·y_i,
 * with G = YᵀY + λI and λ_u = λ + reg[u]. Costs one G·x per row plus one pass over the row's items. Scratch: two Float64Array(f).
 */
export function lossRows(
  X: Float32Array,
  Y: Float32Array,
  f: number,
  offsets: Int32Array,
  indices: Int32Array,
  conf: Float32Array,
  G: Float64Array,
  reg: Float32Array,
  rowFrom: number,
  rowTo: number,
  x: Float64Array,
  gx: Float64Array,
): number {
  let loss = 0;
  for (let u = rowFrom; u < rowTo; u++) {
    const xo = u * f;
    for (let j = 0; j < f; j++) x[j] = X[xo + j];
    gemvInto(G, x, gx, f);
    let q = 0;
    for (let j = 0; j < f; j++) q += x[j] * (gx[j] + reg[u] * x[j]);
    for (let e = offsets[u]; e < offsets[u + 1]; e++) {
      const s = dotYv(Y, indices[e] * f, x, f);
      q += conf[e] * (1 - s) * (1 - s) - s * s;
    }
    loss += q;
  }
  return loss;
}
