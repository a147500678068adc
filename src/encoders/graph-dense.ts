/**
 * Small dense layers for graph convolutions, typed arrays with hand-written backward on the
 * WASM SIMD gemm (C = A·Bᵀ; backward transposes its operands once per call):
 *   forward  Y = act(X Wᵀ + b)            X: n × in, W: out × in (row-major), Y: n × out
 *   backward dY ← dY ⊙ act'(Y); dW += dYᵀ X; db += Σ_rows dY; dX (= or +=) dY W
 * W and b are updated through the framework's sparse optimizer as an out-row table and a 1-row
 * table (every row touched every step), so Adam/Adagrad/SGD and their schedules apply unchanged.
 * dW = dYᵀ X packs both operands' columns straight into the kernel's panels (no transposes of the
 * n-row blocks: for PinSage's layer 1, n is most of the graph).
 */
import { createWasmGemm, GEMM_MR, GEMM_NR, Gemm, type WasmGemm } from "../math/gemm-wasm.ts";
import type { Rng } from "../math/rng.ts";
import type { RowUpdater, SparseOptimizer } from "./types.ts";

/** dst (cols × rows) = srcᵀ for a rows × cols row-major block. */
export function transposeInto(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  // 32 × 32 tiles keep both the reads and the strided writes in cache
  for (let r0 = 0; r0 < rows; r0 += 32) {
    const r1 = Math.min(rows, r0 + 32);
    for (let c0 = 0; c0 < cols; c0 += 32) {
      const c1 = Math.min(cols, c0 + 32);
      for (let r = r0; r < r1; r++) {
        const o = r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[o + c];
      }
    }
  }
}

/**
 * Packs the columns of X (n × cols, row-major) as the rows of a panel operand: panel q holds
 * columns q·width … q·width + width − 1, element (column q·width + s, p) at dst[(q·n + p)·width + s]
 * (columns past `cols` are zero). The same layout `packPanelsInto` gives Xᵀ, without forming Xᵀ.
 */
function packColumnsInto(
  X: Float32Array,
  n: number,
  cols: number,
  width: number,
  dst: Float32Array,
  dstOff: number,
): number {
  const nPanels = Math.ceil(cols / width);
  for (let q = 0; q < nPanels; q++) {
    const c0 = q * width;
    const w = Math.min(width, cols - c0);
    let o = dstOff + q * n * width;
    for (let p = 0; p < n; p++) {
      const src = p * cols + c0;
      for (let s = 0; s < w; s++) dst[o + s] = X[src + s];
      for (let s = w; s < width; s++) dst[o + s] = 0;
      o += width;
    }
  }
  return nPanels * n * width;
}

/** Rows of the reduction per kernel call in `addGemmTN`: both packed chunks stay in L2. */
const TN_CHUNK = 512;

/**
 * C (a × b) += Aᵀ B for A (n × a) and B (n × b), row-major, by the wasm kernel. The reduction runs
 * over n (most of the graph for layer 1), so it goes in chunks of TN_CHUNK rows: one call over
 * all n would stream both packed operands from memory once per 4 × 8 output tile.
 */
function addGemmTN(
  g: WasmGemm,
  A: Float32Array,
  a: number,
  B: Float32Array,
  b: number,
  n: number,
  C: Float32Array,
): void {
  const mt = Math.ceil(a / GEMM_MR);
  const nt = Math.ceil(b / GEMM_NR);
  const ldw = nt * GEMM_NR;
  const rows = Math.min(n, TN_CHUNK);
  const aFloats = mt * GEMM_MR * rows;
  const bFloats = nt * GEMM_NR * rows;
  const cFloats = mt * GEMM_MR * ldw;
  g.reserve((aFloats + bFloats + cFloats) * 4);
  const f = g.f32;
  const cBase = aFloats + bFloats;
  for (let r0 = 0; r0 < n; r0 += TN_CHUNK) {
    const m = Math.min(TN_CHUNK, n - r0);
    packColumnsInto(A.subarray(r0 * a, (r0 + m) * a), m, a, GEMM_MR, f, 0);
    packColumnsInto(B.subarray(r0 * b, (r0 + m) * b), m, b, GEMM_NR, f, mt * GEMM_MR * m);
    g.gemm4x8(0, mt, mt * GEMM_MR * m * 4, nt, m, cBase * 4, ldw);
    for (let i = 0; i < a; i++) {
      const o = cBase + i * ldw;
      for (let j = 0; j < b; j++) C[i * b + j] += f[o + j];
    }
  }
}

export class DenseLayer {
  readonly W: Float32Array;
  readonly b: Float32Array;
  readonly dW: Float32Array;
  readonly db: Float32Array;
  private uW: RowUpdater | null = null;
  private ub: RowUpdater | null = null;
  private readonly gemm = new Gemm();
  private readonly wasm: WasmGemm | null = createWasmGemm();
  private t1 = new Float32Array(0);
  private t2 = new Float32Array(0);
  private readonly Wt: Float32Array;
  private readonly dWtmp: Float32Array;

  constructor(
    readonly nIn: number,
    readonly nOut: number,
    readonly relu: boolean,
    rng: Rng,
  ) {
    // Glorot-uniform: U(±√(6 / (in + out)))
    const s = Math.sqrt(6 / (nIn + nOut));
    this.W = Float32Array.from({ length: nOut * nIn }, () => s * (2 * rng.next() - 1));
    this.b = new Float32Array(nOut);
    this.dW = new Float32Array(nOut * nIn);
    this.db = new Float32Array(nOut);
    this.Wt = new Float32Array(nIn * nOut);
    this.dWtmp = new Float32Array(nOut * nIn);
  }

  bind(opt: SparseOptimizer): void {
    this.uW = opt.bind(this.W, this.nOut, this.nIn, false);
    this.ub = opt.bind(this.b, 1, this.nOut, false);
  }

  /** Y (n × out) = act(X Wᵀ + b). */
  forwardInto(X: Float32Array, n: number, Y: Float32Array): void {
    const o = this.nOut;
    this.gemm.nt(X, 0, n, this.W, 0, o, this.nIn, Y, 0, o);
    const b = this.b;
    const relu = this.relu;
    for (let r = 0; r < n; r++)
      for (let j = 0; j < o; j++) {
        const v = Y[r * o + j] + b[j];
        Y[r * o + j] = relu && v < 0 ? 0 : v;
      }
  }

  /**
   * Given Y and dY (n × out; dY is overwritten by dY ⊙ act'(Y)), accumulates dW, db and writes
   * dX (n × in) — added to its contents when `accumulate`. dX may be null (input needs no gradient).
   */
  backward(
    X: Float32Array,
    Y: Float32Array,
    dY: Float32Array,
    n: number,
    dX: Float32Array | null,
    accumulate: boolean,
  ): void {
    const o = this.nOut;
    const i = this.nIn;
    const db = this.db;
    for (let r = 0; r < n; r++) {
      const ro = r * o;
      for (let j = 0; j < o; j++) {
        if (this.relu && Y[ro + j] <= 0) dY[ro + j] = 0;
        db[j] += dY[ro + j];
      }
    }
    if (this.t1.length < n * Math.max(o, i)) {
      this.t1 = new Float32Array(n * Math.max(o, i));
      this.t2 = new Float32Array(n * Math.max(o, i));
    }
    // dW (out × in) += dYᵀ X
    if (this.wasm !== null && n > 0) addGemmTN(this.wasm, dY, o, X, i, n, this.dW);
    else if (n > 0) {
      transposeInto(dY, n, o, this.t1);
      transposeInto(X, n, i, this.t2);
      this.gemm.nt(this.t1, 0, o, this.t2, 0, i, n, this.dWtmp, 0, i);
      for (let t = 0; t < o * i; t++) this.dW[t] += this.dWtmp[t];
    }
    if (dX === null) return;
    // dX (n × in) = dY W = dY (Wᵀ)ᵀ
    transposeInto(this.W, o, i, this.Wt);
    if (!accumulate) {
      this.gemm.nt(dY, 0, n, this.Wt, 0, i, o, dX, 0, i);
      return;
    }
    this.gemm.nt(dY, 0, n, this.Wt, 0, i, o, this.t2, 0, i);
    for (let t = 0; t < n * i; t++) dX[t] += this.t2[t];
  }

  /** Applies the accumulated gradient through the optimizer and clears it. */
  step(): void {
    const uW = this.uW as RowUpdater;
    for (let r = 0; r < this.nOut; r++) uW.update(r, this.dW, r * this.nIn);
    (this.ub as RowUpdater).update(0, this.db, 0);
    this.dW.fill(0);
    this.db.fill(0);
  }

  parameters(): Float32Array[] {
    return [this.W, this.b];
  }
}
