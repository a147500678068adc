import type { Rng } from "../math/rng.ts";
import { CatalogueBase, type CatalogueOptions } from "./catalogue.ts";
import type { SamplerStats } from "./types.ts";

/**
 * Log-uniform (Zipfian) by popularity rank, TF's `log_uniform_candidate_sampler` (spec §5.3.1):
 *   P(rank c) = (log(c + 2) − log(c + 1)) / log(range_max + 1)
 * TF assumes ids are already numbered by descending popularity; here items are re-ranked by their
 * positive counts (ties: smaller id first), so any id order works. A draw is
 * c = ⌊exp(u · log(range_max + 1))⌋ − 1 with u uniform in [0, 1) — no table needed.
 */
class LogUniform extends CatalogueBase {
  readonly name = "logUniform";
  private byRank: Int32Array = new Int32Array(0);
  private logRange = 0;
  prepare(stats: SamplerStats): void {
    const n = stats.nItems;
    const c = stats.counts;
    this.byRank = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => c[b] - c[a] || a - b);
    this.logRange = Math.log(n + 1);
    const prob = new Float64Array(n);
    for (let r = 0; r < n; r++) prob[this.byRank[r]] = (Math.log(r + 2) - Math.log(r + 1)) / this.logRange;
    this.setProb(prob);
  }
  drawInto(rng: Rng, out: Int32Array, from: number, n: number): void {
    const byRank = this.byRank;
    const last = byRank.length - 1;
    const lr = this.logRange;
    for (let e = from; e < from + n; e++) {
      let r = Math.floor(Math.exp(rng.next() * lr)) - 1;
      if (r > last) r = last;
      out[e] = byRank[r];
    }
  }
}

/** @example negatives.logUniform({ count: 64, shared: true }) // TF nce_loss / sampled_softmax_loss default */
export function logUniform(o: CatalogueOptions = {}): CatalogueBase {
  return new LogUniform(o, "logUniform");
}
