/**
 * Dense layers of a DNN tower (spec §5.5.3): a stack of fully-connected layers
 * y = act(x·Wᵀ + b) with hand-written backward, on the WASM SIMD gemm (math/gemm-wasm.ts).
 *
 * Why not TensorFlow.js: measured on this machine (2026-11-29, load ≈ 3.8), one forward+backward
 * of a 1024 × 128 → 256 → 64 MLP took ~100 ms on tfjs-backend-wasm 4.22 (≈ 3 GFLOP/s, single
 * thread: its threaded build does not start under Node) against ~2 ms per 1024×256×128 product
 * (≈ 32 GFLOP/s) with our kernel; tfjs-core's Node bundle also registers no gradients (the
 * umbrella `@tensorflow/tfjs` is needed) and the emscripten glue installs process-wide
 * `uncaughtException` handlers. Every product here is C = A·Bᵀ, so backward transposes its
 * (small) operands once per batch.
 *
 * W of a layer is stored out × in, row-major, so the sparse optimizers of train/optimizers can
 * update it as an `out`-row table (every row touched every batch: plain Adam/Adagrad/SGD).
 */
import { assert } from "../errors.ts";
import { Gemm } from "../math/gemm-wasm.ts";
import type { Rng } from "../math/rng.ts";
import type { RowUpdater, SparseOptimizer } from "./types.ts";

export type Activation = "relu" | "tanh" | "linear";

const ACTIVATIONS: readonly Activation[] = ["relu", "tanh", "linear"];

export function checkActivation(a: string, who: string): asserts a is Activation {
  assert(
    (ACTIVATIONS as readonly string[]).includes(a),
    () => `${who}: activation must be one of ${ACTIVATIONS.join(", ")}, got "${a}"`,
  );
}

function grow(a: Float32Array, n: number): Float32Array {
  return a.length >= n ? a : new Float32Array(n);
}

/** out (cols × rows) = X (rows × cols) transposed. */
function transposeInto(X: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = X[o + c];
  }
}

/**
 * An MLP: widths[l] units in layer l; hidden layers use `activation`, the last one is linear
 * (a tower's output is a free vector, optionally L2-normalised by the trainer).
 */
export class Mlp {
  readonly inDim: number;
  readonly outDim: number;
  readonly W: Float32Array[] = [];
  readonly b: Float32Array[] = [];
  private readonly dims: number[];
  private wUp: RowUpdater[] = [];
  private bUp: RowUpdater[] = [];
  private readonly gemm = new Gemm();
  /** acts[0] = input copy, acts[l+1] = output of layer l (after activation), n rows each. */
  private acts: Float32Array[] = [];
  private n = 0;
  private dW: Float32Array[] = [];
  private db: Float32Array[] = [];
  private dA: Float32Array = new Float32Array(0);
  private dZ: Float32Array = new Float32Array(0);
  private dZt: Float32Array = new Float32Array(0);
  private Xt: Float32Array = new Float32Array(0);
  private Wt: Float32Array = new Float32Array(0);
  private dX: Float32Array = new Float32Array(0);

  constructor(
    inDim: number,
    readonly widths: readonly number[],
    readonly activation: Activation = "relu",
  ) {
    assert(Number.isInteger(inDim) && inDim >= 1, () => `dense.mlp: input width must be ≥ 1, got ${inDim}`);
    assert(widths.length >= 1, () => "dense.mlp: needs at least one layer");
    for (const w of widths)
      assert(Number.isInteger(w) && w >= 1, () => `dense.mlp: layer widths must be integers ≥ 1, got ${w}`);
    checkActivation(activation, "dense.mlp");
    this.inDim = inDim;
    this.outDim = widths[widths.length - 1];
    this.dims = [inDim, ...widths];
    for (let l = 0; l < widths.length; l++) {
      this.W.push(new Float32Array(this.dims[l + 1] * this.dims[l]));
      this.b.push(new Float32Array(this.dims[l + 1]));
      this.dW.push(new Float32Array(this.dims[l + 1] * this.dims[l]));
      this.db.push(new Float32Array(this.dims[l + 1]));
      this.acts.push(new Float32Array(0));
    }
    this.acts.push(new Float32Array(0));
  }

  get layers(): number {
    return this.widths.length;
  }

  /** He-normal for ReLU layers, Glorot-normal otherwise; biases 0. */
  init(rng: Rng): void {
    for (let l = 0; l < this.layers; l++) {
      const fanIn = this.dims[l];
      const fanOut = this.dims[l + 1];
      const relu = l < this.layers - 1 && this.activation === "relu";
      const s = relu ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
      const w = this.W[l];
      for (let e = 0; e < w.length; e++) w[e] = s * rng.normal();
      this.b[l].fill(0);
    }
  }

  bind(opt: SparseOptimizer): void {
    this.wUp = this.W.map((w, l) => opt.bind(w, this.dims[l + 1], this.dims[l], false));
    this.bUp = this.b.map((b, l) => opt.bind(b, 1, this.dims[l + 1], false));
  }

  /** [W₀, b₀, W₁, b₁, …] */
  parameters(): Float32Array[] {
    const out: Float32Array[] = [];
    for (let l = 0; l < this.layers; l++) out.push(this.W[l], this.b[l]);
    return out;
  }

  /** Forward of n rows of X (n × inDim); returns the output (n × outDim, a view valid until the next call). */
  forward(X: Float32Array, n: number): Float32Array {
    this.n = n;
    this.acts[0] = grow(this.acts[0], n * this.inDim);
    this.acts[0].set(X.subarray(0, n * this.inDim));
    for (let l = 0; l < this.layers; l++) {
      const din = this.dims[l];
      const dout = this.dims[l + 1];
      this.acts[l + 1] = grow(this.acts[l + 1], n * dout);
      const Z = this.acts[l + 1];
      this.gemm.nt(this.acts[l], 0, n, this.W[l], 0, dout, din, Z, 0, dout);
      const b = this.b[l];
      const act = l === this.layers - 1 ? "linear" : this.activation;
      for (let i = 0; i < n; i++) {
        const o = i * dout;
        if (act === "relu")
          for (let j = 0; j < dout; j++) {
            const z = Z[o + j] + b[j];
            Z[o + j] = Math.max(z, 0);
          }
        else if (act === "tanh") for (let j = 0; j < dout; j++) Z[o + j] = Math.tanh(Z[o + j] + b[j]);
        else for (let j = 0; j < dout; j++) Z[o + j] += b[j];
      }
    }
    return this.acts[this.layers].subarray(0, n * this.outDim);
  }

  /**
   * Backward of the last `forward`: given dL/dy (n × outDim) returns dL/dx (n × inDim, a view)
   * and, when `update`, applies one optimizer step to every W and b (the trainer calls the
   * optimizer's `nextStep` once per batch before the updates).
   */
  backward(dY: Float32Array, update = true): Float32Array {
    const n = this.n;
    this.dA = grow(this.dA, n * Math.max(...this.dims));
    this.dA.set(dY.subarray(0, n * this.outDim));
    for (let l = this.layers - 1; l >= 0; l--) {
      const din = this.dims[l];
      const dout = this.dims[l + 1];
      const Y = this.acts[l + 1];
      this.dZ = grow(this.dZ, n * dout);
      const dZ = this.dZ;
      const act = l === this.layers - 1 ? "linear" : this.activation;
      for (let e = 0; e < n * dout; e++) {
        const g = this.dA[e];
        dZ[e] = act === "relu" ? (Y[e] > 0 ? g : 0) : act === "tanh" ? g * (1 - Y[e] * Y[e]) : g;
      }
      const db = this.db[l];
      db.fill(0);
      for (let i = 0; i < n; i++) for (let j = 0; j < dout; j++) db[j] += dZ[i * dout + j];
      // dW (dout × din) = dZᵀ · X = nt(dZᵀ, Xᵀ)
      this.dZt = grow(this.dZt, n * dout);
      this.Xt = grow(this.Xt, n * din);
      transposeInto(dZ, n, dout, this.dZt);
      transposeInto(this.acts[l], n, din, this.Xt);
      this.gemm.nt(this.dZt, 0, dout, this.Xt, 0, din, n, this.dW[l], 0, din);
      // dX (n × din) = dZ · W = nt(dZ, Wᵀ)
      this.Wt = grow(this.Wt, dout * din);
      transposeInto(this.W[l], dout, din, this.Wt);
      this.dX = grow(this.dX, n * din);
      this.gemm.nt(dZ, 0, n, this.Wt, 0, din, dout, this.dX, 0, din);
      this.dA.set(this.dX.subarray(0, n * din));
    }
    if (update) this.applyGrads();
    return this.dA.subarray(0, n * this.inDim);
  }

  /** The gradients of the last backward: [dW₀, db₀, …] (same order as `parameters`). */
  gradients(): Float32Array[] {
    const out: Float32Array[] = [];
    for (let l = 0; l < this.layers; l++) out.push(this.dW[l], this.db[l]);
    return out;
  }

  private applyGrads(): void {
    for (let l = 0; l < this.layers; l++) {
      const din = this.dims[l];
      const wu = this.wUp[l];
      assert(wu !== undefined, () => "dense.mlp: bind(optimizer) before backward");
      for (let r = 0; r < this.dims[l + 1]; r++) wu.update(r, this.dW[l], r * din);
      this.bUp[l].update(0, this.db[l], 0);
    }
  }
}
