/**
 * Leading eigenpairs of a large symmetric positive semi-definite operator M (n × n) known only by
 * its product with a block of vectors: subspace iteration with Rayleigh–Ritz (Halko, Martinsson &
 * Tropp 2011, §4.5 and §5.5). A block of b = k + oversample random vectors is multiplied by M
 * `iterations` times, re-orthonormalised after every product (so the small eigen-directions are
 * not lost to rounding), and the b × b projection QᵀMQ is diagonalised exactly; its top k Ritz
 * pairs are returned. The error in direction j shrinks like (λ_{b+1}/λ_j)^iterations, which is why
 * the oversampling matters more than it looks.
 *
 * Dense blocks are row-major n × b float32 (`x[i*b + j]`), the layout of the SpMM kernels. The
 * n-long products (Gram matrices, block × small matrix) run in the SIMD GEMM (math/gemm-wasm.ts,
 * float32: ~15× the float64 loops on Gowalla's 40,981 × 320 block); the small b × b algebra
 * (Cholesky, triangular inverse, Jacobi rotations) runs in float64.
 */
import { assert } from "../errors.ts";
import { Gemm } from "./gemm-wasm.ts";
import { Rng } from "./rng.ts";

/** x ← M·x in place for a row-major n × cols block. */
export type BlockOperator = (x: Float32Array, cols: number) => void;

export interface EigenOptions {
  /** Extra block columns beyond k. Default max(8, k/4), rounded so b is a multiple of 8. */
  readonly oversample?: number;
  /** Products with M before the Rayleigh–Ritz step. Default 10. */
  readonly iterations?: number;
  /** Seed of the random start block. Default 1. */
  readonly seed?: number;
}

export interface Eigenpairs {
  /** λ_1 ≥ … ≥ λ_k. */
  readonly values: Float64Array;
  /** n × k row-major: column j is the unit eigenvector of values[j]. */
  readonly vectors: Float32Array;
}

/** The k leading eigenpairs of the PSD operator `apply` on ℝⁿ (see the file comment). */
export function topEigenpairs(apply: BlockOperator, n: number, k: number, o: EigenOptions = {}): Eigenpairs {
  assert(Number.isInteger(k) && k >= 1 && k <= n, () => `topEigenpairs: k must be in [1, ${n}], got ${k}`);
  const iterations = o.iterations ?? 10;
  assert(
    Number.isInteger(iterations) && iterations >= 0,
    () => `topEigenpairs: iterations must be an integer ≥ 0, got ${iterations}`,
  );
  const over = o.oversample ?? Math.max(8, Math.ceil(k / 4));
  assert(
    Number.isInteger(over) && over >= 0,
    () => `topEigenpairs: oversample must be an integer ≥ 0, got ${over}`,
  );
  const b = Math.min(n, Math.ceil((k + over) / 8) * 8);
  const rng = new Rng(o.seed ?? 1);
  const gemm = new Gemm();
  const q = new Float32Array(n * b);
  for (let t = 0; t < q.length; t++) q[t] = rng.normal();
  orthonormalizeColumns(q, n, b, rng, gemm);
  for (let it = 0; it < iterations; it++) {
    apply(q, b);
    orthonormalizeColumns(q, n, b, rng, gemm);
  }
  // Rayleigh–Ritz: H = Qᵀ M Q is b × b; its eigenvectors rotate Q onto the Ritz vectors.
  const mq = q.slice();
  apply(mq, b);
  const h = crossGram(q, mq, n, b, gemm);
  for (let i = 0; i < b; i++)
    for (let j = 0; j < i; j++) h[i * b + j] = h[j * b + i] = 0.5 * (h[i * b + j] + h[j * b + i]);
  const { values, vectors: w } = symmetricEigen(h, b);
  // V = Q · W[:, :k], as Q · (W's first k columns as rows)ᵀ
  const wt = new Float32Array(k * b);
  for (let j = 0; j < k; j++) for (let p = 0; p < b; p++) wt[j * b + p] = w[p * b + j];
  const vectors = new Float32Array(n * k);
  gemm.nt(q, 0, n, wt, 0, k, b, vectors, 0, k);
  return { values: values.slice(0, k), vectors };
}

/**
 * Orthonormalises the columns of a row-major n × b block in place by CholeskyQR2 (Q = Y·R⁻¹ with
 * RᵀR = YᵀY, twice: the second pass restores orthogonality lost to the first's conditioning and
 * to the float32 products).
 * When YᵀY is numerically singular (M has rank < b, e.g. a graph with fewer users than b) it falls
 * back to Gram–Schmidt, re-drawing columns that vanish so the block stays a full basis.
 */
export function orthonormalizeColumns(
  y: Float32Array,
  n: number,
  b: number,
  rng: Rng,
  gemm: Gemm = new Gemm(),
): void {
  const out = new Float32Array(n * b);
  for (let pass = 0; pass < 2; pass++) {
    const r = cholesky(crossGram(y, y, n, b, gemm), b);
    if (r === null) {
      gramSchmidt(y, n, b, rng);
      return;
    }
    // Q = Y·R⁻¹, as Y · (R⁻¹'s columns as rows)ᵀ
    const inv = upperInverse(r, b);
    const invT = new Float32Array(b * b);
    for (let p = 0; p < b; p++) for (let j = p; j < b; j++) invT[j * b + p] = inv[p * b + j];
    gemm.nt(y, 0, n, invT, 0, b, b, out, 0, b);
    y.set(out);
  }
}

/** Row-major n × b → b × n. */
function transpose(y: Float32Array, n: number, b: number): Float32Array {
  const t = new Float32Array(n * b);
  for (let i = 0; i < n; i++) for (let j = 0; j < b; j++) t[j * n + i] = y[i * b + j];
  return t;
}

/** AᵀB (b × b, float64) for two row-major n × b blocks (AᵀA when b is a). */
function crossGram(a: Float32Array, bb: Float32Array, n: number, b: number, gemm: Gemm): Float64Array {
  const at = transpose(a, n, b);
  const bt = bb === a ? at : transpose(bb, n, b);
  const g = new Float32Array(b * b);
  gemm.nt(at, 0, b, bt, 0, b, n, g, 0, b);
  return Float64Array.from(g);
}

/** R⁻¹ of an upper-triangular b × b matrix (back substitution, column by column). */
function upperInverse(r: Float64Array, b: number): Float64Array {
  const x = new Float64Array(b * b);
  for (let j = 0; j < b; j++) {
    x[j * b + j] = 1 / r[j * b + j];
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let m = i + 1; m <= j; m++) s += r[i * b + m] * x[m * b + j];
      x[i * b + j] = -s / r[i * b + i];
    }
  }
  return x;
}

/**
 * Upper-triangular R with RᵀR = G, or null when G is not numerically positive definite (a pivot
 * under 1e-6 of the largest diagonal: G is a float32 product, so smaller pivots are rounding).
 */
function cholesky(g: Float64Array, b: number): Float64Array | null {
  let maxDiag = 0;
  for (let j = 0; j < b; j++) maxDiag = Math.max(maxDiag, g[j * b + j]);
  const tol = 1e-6 * maxDiag;
  const r = new Float64Array(b * b);
  for (let j = 0; j < b; j++) {
    let d = g[j * b + j];
    for (let m = 0; m < j; m++) d -= r[m * b + j] * r[m * b + j];
    if (!(d > tol)) return null;
    const rjj = Math.sqrt(d);
    r[j * b + j] = rjj;
    for (let c = j + 1; c < b; c++) {
      let s = g[j * b + c];
      for (let m = 0; m < j; m++) s -= r[m * b + j] * r[m * b + c];
      r[j * b + c] = s / rjj;
    }
  }
  return r;
}

/** Modified Gram–Schmidt, twice per column, on a column-major float64 copy; vanished columns are re-drawn. */
function gramSchmidt(y: Float32Array, n: number, b: number, rng: Rng): void {
  const cols: Float64Array[] = [];
  for (let j = 0; j < b; j++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = y[i * b + j];
    for (let attempt = 0; ; attempt++) {
      let before = 0;
      for (let i = 0; i < n; i++) before += v[i] * v[i];
      for (let pass = 0; pass < 2; pass++)
        for (const c of cols) {
          let d = 0;
          for (let i = 0; i < n; i++) d += c[i] * v[i];
          for (let i = 0; i < n; i++) v[i] -= d * c[i];
        }
      let after = 0;
      for (let i = 0; i < n; i++) after += v[i] * v[i];
      if (after > 1e-20 && after > 1e-12 * before) {
        const s = 1 / Math.sqrt(after);
        for (let i = 0; i < n; i++) v[i] *= s;
        break;
      }
      assert(attempt < 20, () => `orthonormalizeColumns: cannot extend a basis of ${j} columns in ℝ^${n}`);
      for (let i = 0; i < n; i++) v[i] = rng.normal();
    }
    cols.push(v);
  }
  for (let j = 0; j < b; j++) for (let i = 0; i < n; i++) y[i * b + j] = cols[j][i];
}

/**
 * All eigenpairs of a dense symmetric b × b matrix (row-major, float64) by cyclic Jacobi rotations,
 * sorted by value descending; `vectors[p*b + j]` is entry p of eigenvector j. Exact to rounding,
 * O(b³) per sweep: fine for the few-hundred-wide Rayleigh–Ritz matrices here.
 */
export function symmetricEigen(a: Float64Array, b: number): { values: Float64Array; vectors: Float64Array } {
  const m = a.slice();
  const v = new Float64Array(b * b);
  for (let i = 0; i < b; i++) v[i * b + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < b; i++)
      for (let j = 0; j < b; j++) {
        const x = m[i * b + j] * m[i * b + j];
        total += x;
        if (i !== j) off += x;
      }
    // off-diagonal mass at ~1e-12 of the whole (relative): rounding floors it near b·ε²
    if (off <= 1e-24 * total) break;
    for (let p = 0; p < b - 1; p++)
      for (let q = p + 1; q < b; q++) {
        const apq = m[p * b + q];
        if (apq === 0) continue;
        const theta = (m[q * b + q] - m[p * b + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < b; r++) {
          // columns p and q of m, then rows p and q (m stays symmetric)
          const mrp = m[r * b + p];
          const mrq = m[r * b + q];
          m[r * b + p] = c * mrp - s * mrq;
          m[r * b + q] = s * mrp + c * mrq;
        }
        for (let r = 0; r < b; r++) {
          const mpr = m[p * b + r];
          const mqr = m[q * b + r];
          m[p * b + r] = c * mpr - s * mqr;
          m[q * b + r] = s * mpr + c * mqr;
        }
        for (let r = 0; r < b; r++) {
          const vrp = v[r * b + p];
          const vrq = v[r * b + q];
          v[r * b + p] = c * vrp - s * vrq;
          v[r * b + q] = s * vrp + c * vrq;
        }
      }
  }
  const order = Array.from({ length: b }, (_, i) => i).sort((x, y) => m[y * b + y] - m[x * b + x]);
  const values = Float64Array.from(order, (i) => m[i * b + i]);
  const vectors = new Float64Array(b * b);
  for (let r = 0; r < b; r++) for (let j = 0; j < b; j++) vectors[r * b + j] = v[r * b + order[j]];
  return { values, vectors };
}
