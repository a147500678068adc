import type { Rng } from "../math/rng.ts";
import { CatalogueBase, type CatalogueOptions } from "./catalogue.ts";
import type { SamplerStats } from "./types.ts";

/** Uniform over the catalogue (5-22 with b = 0): Q(t) = 1/|T|. The widest coverage, all easy negatives. */
class Uniform extends CatalogueBase {
  readonly name = "uniform";
  private n = 0;
  prepare(stats: SamplerStats): void {
    this.n = stats.nItems;
    this.setProb(new Float64Array(stats.nItems).fill(1 / stats.nItems));
  }
  drawInto(rng: Rng, out: Int32Array, from: number, n: number): void {
    const m = this.n;
    for (let e = from; e < from + n; e++) out[e] = Math.floor(rng.next() * m);
  }
}

/** @example negatives.uniform({ count: 1 }) // one negative per (user, positive): MF-BPR */
export function uniform(o: CatalogueOptions = {}): CatalogueBase {
  return new Uniform(o, "uniform");
}
