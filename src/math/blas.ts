/**
 * Dense kernels over flat row-major Float32Arrays (x[i*dim + j]). Plain functions over buffers,
 * offsets and numbers so V8 keeps them monomorphic; sums accumulate in a JS double and are stored
 * as f32.
 */

/** Σ_j a[ao+j]·b[bo+j] for j < n. */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < n; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + s2 + s3;
}

/** y[yo+j] += alpha·x[xo+j] for j < n. */
export function axpy(
  alpha: number,
  x: Float32Array,
  xo: number,
  y: Float32Array,
  yo: number,
  n: number,
): void {
  for (let j = 0; j < n; j++) y[yo + j] += alpha * x[xo + j];
}

/** x[xo+j] *= alpha for j < n. */
export function scal(alpha: number, x: Float32Array, xo: number, n: number): void {
  for (let j = 0; j < n; j++) x[xo + j] *= alpha;
}

/** Euclidean norm of x[xo .. xo+n). */
export function norm2(x: Float32Array, xo: number, n: number): number {
  return Math.sqrt(dot(x, xo, x, xo, n));
}

/** Scales every row of an (nRows × dim) matrix to unit L2 norm in place; zero rows stay zero. */
export function normalizeRows(x: Float32Array, nRows: number, dim: number): void {
  for (let i = 0; i < nRows; i++) {
    const nrm = norm2(x, i * dim, dim);
    if (nrm > 0) scal(1 / nrm, x, i * dim, dim);
  }
}

/**
 * C[i*ldc + j] = Σ_p A[(aRow0+i)*dim + p] · B[(bRow0+j)*dim + p] for i < m, j < n:
 * the "NT" product of a block of A's rows with a block of B's rows (scores of m queries against
 * n items). 2×4 register tiling; the reference is `gemmNTReference` in blas.reference.ts.
 */
export function gemmNT(
  A: Float32Array,
  aRow0: number,
  m: number,
  B: Float32Array,
  bRow0: number,
  n: number,
  dim: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
): void {
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const a0 = (aRow0 + i) * dim;
    const a1 = a0 + dim;
    const c0 = cOff + i * ldc;
    const c1 = c0 + ldc;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const b0 = (bRow0 + j) * dim;
      const b1 = b0 + dim;
      const b2 = b1 + dim;
      const b3 = b2 + dim;
      let s00 = 0;
      let s01 = 0;
      let s02 = 0;
      let s03 = 0;
      let s10 = 0;
      let s11 = 0;
      let s12 = 0;
      let s13 = 0;
      for (let p = 0; p < dim; p++) {
        const x0 = A[a0 + p];
        const x1 = A[a1 + p];
        const y0 = B[b0 + p];
        const y1 = B[b1 + p];
        const y2 = B[b2 + p];
        const y3 = B[b3 + p];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      C[c0 + j] = s00;
      C[c0 + j + 1] = s01;
      C[c0 + j + 2] = s02;
      C[c0 + j + 3] = s03;
      C[c1 + j] = s10;
      C[c1 + j + 1] = s11;
      C[c1 + j + 2] = s12;
      C[c1 + j + 3] = s13;
    }
    for (; j < n; j++) {
      const b0 = (bRow0 + j) * dim;
      C[c0 + j] = dot(A, a0, B, b0, dim);
      C[c1 + j] = dot(A, a1, B, b0, dim);
    }
  }
  for (; i < m; i++) {
    const a0 = (aRow0 + i) * dim;
    for (let j = 0; j < n; j++) C[cOff + i * ldc + j] = dot(A, a0, B, (bRow0 + j) * dim, dim);
  }
}
