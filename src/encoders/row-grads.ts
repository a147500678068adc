import type { RowUpdater } from "./types.ts";

/**
 * Sums the gradient of each distinct row touched by a batch, then applies one optimizer update
 * per row (a row seen k times in a batch gets one step with the summed gradient, as a dense
 * framework's gather gradient would). Preallocated; grows only when a batch is larger than any before.
 */
export class RowGrads {
  private slot: Int32Array;
  private rows = new Int32Array(64);
  private grad: Float32Array;
  private n = 0;

  constructor(
    nRows: number,
    private readonly dim: number,
  ) {
    this.slot = new Int32Array(nRows).fill(-1);
    this.grad = new Float32Array(64 * dim);
  }

  /** Offset in `buf()` where row r's summed gradient lives (allocating a zeroed slot). */
  offsetOf(r: number): number {
    let s = this.slot[r];
    if (s < 0) {
      s = this.n++;
      if (s >= this.rows.length) this.grow();
      this.slot[r] = s;
      this.rows[s] = r;
      this.grad.fill(0, s * this.dim, (s + 1) * this.dim);
    }
    return s * this.dim;
  }

  buf(): Float32Array {
    return this.grad;
  }

  /** Applies one update per touched row, in first-touch order, and clears. */
  flush(u: RowUpdater): void {
    for (let s = 0; s < this.n; s++) {
      u.update(this.rows[s], this.grad, s * this.dim);
      this.slot[this.rows[s]] = -1;
    }
    this.n = 0;
  }

  private grow(): void {
    const r2 = new Int32Array(this.rows.length * 2);
    r2.set(this.rows);
    this.rows = r2;
    const g2 = new Float32Array(r2.length * this.dim);
    g2.set(this.grad);
    this.grad = g2;
  }
}
