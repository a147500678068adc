/** Slow, obviously-correct oracles for blas.ts (tests only). */
export function gemmNTReference(
  A: Float32Array,
  m: number,
  B: Float32Array,
  n: number,
  dim: number,
): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < dim; p++) s += A[i * dim + p] * B[j * dim + p];
      C[i * n + j] = s;
    }
  return C;
}
