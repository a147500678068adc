/**
 * Small dense layers for graph convolutions, typed arrays with hand-written backward on the
 * WASM SIMD gemm (C = A·Bᵀ; backward transposes its operands once per call):
 *   forward  Y = act(X Wᵀ + b)            X: n × in, W: out × in (row-major), Y: n × out
 *   backward dY ← dY ⊙ act'(Y); dW += dYᵀ X; db += Σ_rows dY; dX (= or +=) dY W
 * W and b are updated through the framework's sparse optimizer as an out-row table and a 1-row
 * table (every row touched every step), so Adam/Adagrad/SGD and their schedules apply unchanged.
 */
import { Gemm } from "../math/gemm-wasm.ts";
import type { Rng } from "../math/rng.ts";
import type { RowUpdater, SparseOptimizer } from "./types.ts";

/** dst (cols × rows) = srcᵀ for a rows × cols row-major block. */
export function transposeInto(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[o + c];
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
    if (this.relu) for (let t = 0; t < n * o; t++) if (Y[t] <= 0) dY[t] = 0;
    for (let r = 0; r < n; r++) for (let j = 0; j < o; j++) this.db[j] += dY[r * o + j];
    // dW (out × in) += dYᵀ X = (dYᵀ)(Xᵀ)ᵀ
    if (this.t1.length < n * Math.max(o, i)) {
      this.t1 = new Float32Array(n * Math.max(o, i));
      this.t2 = new Float32Array(n * Math.max(o, i));
    }
    transposeInto(dY, n, o, this.t1);
    transposeInto(X, n, i, this.t2);
    this.gemm.nt(this.t1, 0, o, this.t2, 0, i, n, this.dWtmp, 0, i);
    for (let t = 0; t < o * i; t++) this.dW[t] += this.dWtmp[t];
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
