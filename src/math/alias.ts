import type { Rng } from "./rng.ts";

/**
 * Walker/Vose alias table: O(n) build, O(1) draws from a discrete distribution. Used for
 * popularity^b negatives and weighted random-walk steps. `prob[i]` keeps the normalised
 * probability of i, so samplers can report Q(i) for logQ correction.
 */
export class AliasTable {
  readonly n: number;
  readonly prob: Float64Array;
  private readonly cut: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new RangeError("AliasTable: no weights");
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (!(w >= 0) || !Number.isFinite(w))
        throw new RangeError(`AliasTable: weight ${i} is ${w}, expected a finite number ≥ 0`);
      total += w;
    }
    if (total <= 0) throw new RangeError("AliasTable: all weights are zero");
    this.n = n;
    this.prob = new Float64Array(n);
    this.cut = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = this.cut;
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      this.prob[i] = weights[i] / total;
      scaled[i] = this.prob[i] * n;
      if (scaled[i] < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns];
      const l = large[--nl];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      if (scaled[l] < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    // Leftovers are 1 up to rounding error.
    while (nl > 0) {
      const l = large[--nl];
      scaled[l] = 1;
      this.alias[l] = l;
    }
    while (ns > 0) {
      const s = small[--ns];
      scaled[s] = 1;
      this.alias[s] = s;
    }
  }

  sample(rng: Rng): number {
    const u = rng.next() * this.n;
    const i = Math.floor(u);
    return u - i < this.cut[i] ? i : this.alias[i];
  }

  sampleInto(rng: Rng, out: Int32Array, from = 0, to = out.length): void {
    for (let j = from; j < to; j++) out[j] = this.sample(rng);
  }
}
