/**
 * Score-matrix glue of one batch (the only place queries meet items). Layout, for n rows:
 *
 *   columns [0, P)      positives: P = n when the sampler is in-batch (column c is row c's
 *                       positive, so row i's label is i), else P = 1 (each row's own positive)
 *   columns [P, P + S)  sampled negatives: shared by all rows, or S per row
 *
 * Item vectors are encoded once per batch in `items` = [positives (n), negatives (S or n·S)], so
 * every cell (i, c) maps to one item row `itemIndex(i, c)`. Shared blocks are matrix products
 * (wasm SIMD gemm when available); per-row cells are dot loops.
 */
import { dot } from "../math/blas.ts";
import type { Gemm } from "../math/gemm-wasm.ts";

export interface Layout {
  n: number;
  dim: number;
  inBatch: boolean;
  shared: boolean;
  /** Sampled negatives: per batch (shared) or per row. */
  S: number;
  P: number;
  nC: number;
}

export function layoutOf(n: number, dim: number, inBatch: boolean, shared: boolean, S: number): Layout {
  const P = inBatch ? n : 1;
  return { n, dim, inBatch, shared, S, P, nC: P + S };
}

/** Row of `items` behind score cell (i, c). */
export function itemIndex(L: Layout, i: number, c: number): number {
  if (c < L.P) return L.inBatch ? c : i;
  return L.shared ? L.n + (c - L.P) : L.n + i * L.S + (c - L.P);
}

/** Scratch buffers for the backward products, grown on demand. */
export class ScoreScratch {
  blk = new Float32Array(0);
  qt = new Float32Array(0);
  ct = new Float32Array(0);
  prod = new Float32Array(0);
  ensure(n: number, w: number, dim: number): void {
    if (this.blk.length < n * w) this.blk = new Float32Array(n * w);
    if (this.qt.length < n * dim) this.qt = new Float32Array(n * dim);
    if (this.ct.length < w * dim) this.ct = new Float32Array(w * dim);
    if (this.prod.length < n * dim) this.prod = new Float32Array(n * dim);
  }
}

/** scores (n × nC) from Q (n × dim) and items. */
export function scoresInto(
  L: Layout,
  Q: Float32Array,
  items: Float32Array,
  scores: Float32Array,
  gemm: Gemm,
): void {
  const { n, dim, nC, P, S } = L;
  if (L.inBatch) gemm.nt(Q, 0, n, items, 0, n, dim, scores, 0, nC);
  else for (let i = 0; i < n; i++) scores[i * nC] = dot(Q, i * dim, items, i * dim, dim);
  if (S === 0) return;
  if (L.shared) gemm.nt(Q, 0, n, items, n, S, dim, scores, P, nC);
  else {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < S; j++) scores[i * nC + P + j] = dot(Q, i * dim, items, (n + i * S + j) * dim, dim);
    }
  }
}

/** Copies the (n × w) column block starting at column c0 of an (n × ld) matrix, transposed, into out (w × n). */
function blockTransposeInto(
  src: Float32Array,
  n: number,
  ld: number,
  c0: number,
  w: number,
  out: Float32Array,
): void {
  for (let i = 0; i < n; i++) for (let c = 0; c < w; c++) out[c * n + i] = src[i * ld + c0 + c];
}
/** Copies the (n × w) column block starting at column c0 into out (n × w), contiguous. */
function blockInto(src: Float32Array, n: number, ld: number, c0: number, w: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) for (let c = 0; c < w; c++) out[i * w + c] = src[i * ld + c0 + c];
}
/** out (dim × rows) = rows r0.. of X (rows × dim) transposed. */
function transposeInto(X: Float32Array, r0: number, rows: number, dim: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) for (let p = 0; p < dim; p++) out[p * rows + r] = X[(r0 + r) * dim + p];
}

/**
 * A gradient block with few non-zero cells (margin losses such as CCL or hinge, where only
 * negatives above the margin count) costs less as per-cell row updates than as two products.
 * Below this density the block is done cell by cell; the result is the same sum.
 */
export const SPARSE_BACKWARD_DENSITY = 1 / 8;

/** The (n × w) block at column c0 / item row r0 cell by cell, when sparse enough; else false. */
function sparseBlockBackward(
  L: Layout,
  Q: Float32Array,
  items: Float32Array,
  dS: Float32Array,
  dQ: Float32Array,
  dItems: Float32Array,
  c0: number,
  w: number,
  r0: number,
): boolean {
  const { n, dim, nC } = L;
  const limit = n * w * SPARSE_BACKWARD_DENSITY;
  let nnz = 0;
  for (let i = 0; i < n && nnz < limit; i++) {
    const o = i * nC + c0;
    for (let c = 0; c < w; c++) if (dS[o + c] !== 0) nnz++;
  }
  if (nnz >= limit) return false;
  for (let i = 0; i < n; i++) {
    const o = i * nC + c0;
    const qo = i * dim;
    for (let c = 0; c < w; c++) {
      const g = dS[o + c];
      if (g === 0) continue;
      const io = (r0 + c) * dim;
      for (let p = 0; p < dim; p++) {
        dQ[qo + p] += g * items[io + p];
        dItems[io + p] += g * Q[qo + p];
      }
    }
  }
  return true;
}

/**
 * dQ (n × dim) and dItems (same rows as items) from dScores:
 *   dQ_i = Σ_c dS(i,c) · item(i,c),   dItem(i,c) += dS(i,c) · Q_i.
 * Shared blocks as products: dQ += dS_blk · C_blk = gemmNT(dS_blk, C_blkᵀ);
 * dC_blk = dS_blkᵀ · Q = gemmNT(dS_blkᵀ, Qᵀ).
 */
export function scoresBackward(
  L: Layout,
  Q: Float32Array,
  items: Float32Array,
  dS: Float32Array,
  dQ: Float32Array,
  dItems: Float32Array,
  nItemRows: number,
  gemm: Gemm,
  sc: ScoreScratch,
): void {
  const { n, dim, nC, P, S } = L;
  dQ.fill(0, 0, n * dim);
  dItems.fill(0, 0, nItemRows * dim);
  const blocks: [number, number, number][] = []; // [first column, width, first item row]
  if (L.inBatch) blocks.push([0, n, 0]);
  if (L.shared && S > 0) blocks.push([P, S, n]);
  if (blocks.length > 0) {
    sc.ensure(n, Math.max(...blocks.map((x) => x[1])), dim);
    transposeInto(Q, 0, n, dim, sc.qt);
  }
  for (const [c0, w, r0] of blocks) {
    if (sparseBlockBackward(L, Q, items, dS, dQ, dItems, c0, w, r0)) continue;
    // dC_blk (w × dim) = dS_blkᵀ (w × n) · Q  →  gemmNT(dS_blkᵀ, Qᵀ)
    blockTransposeInto(dS, n, nC, c0, w, sc.blk);
    gemm.nt(sc.blk, 0, w, sc.qt, 0, dim, n, dItems, r0 * dim, dim);
    // dQ += dS_blk (n × w) · C_blk (w × dim)  →  gemmNT(dS_blk, C_blkᵀ)
    blockInto(dS, n, nC, c0, w, sc.blk);
    transposeInto(items, r0, w, dim, sc.ct);
    gemm.nt(sc.blk, 0, n, sc.ct, 0, dim, w, sc.prod, 0, dim);
    for (let e = 0; e < n * dim; e++) dQ[e] += sc.prod[e];
  }
  // per-row cells: the diagonal positive when not in-batch, per-row negatives when not shared
  for (let i = 0; i < n; i++) {
    const qo = i * dim;
    const c0 = L.inBatch ? P : 0;
    const c1 = L.shared ? P : nC;
    for (let c = c0; c < c1; c++) {
      const g = dS[i * nC + c];
      if (g === 0) continue;
      const io = itemIndex(L, i, c) * dim;
      for (let p = 0; p < dim; p++) {
        dQ[qo + p] += g * items[io + p];
        dItems[io + p] += g * Q[qo + p];
      }
    }
  }
}
