import { assert } from "../errors.ts";
import { AliasTable } from "../math/alias.ts";
import type { Rng } from "../math/rng.ts";
import { CatalogueBase, type CatalogueOptions } from "./catalogue.ts";
import type { SamplerStats } from "./types.ts";

export interface PopularityOptions extends CatalogueOptions {
  /** b of F(t)^b (spec 5-22). 0 is uniform, 1 follows popularity; default 0.75 (word2vec). */
  readonly power?: number;
  /** Added to every count before the power, so unseen items can still be drawn. Default 0. */
  readonly smoothing?: number;
}

/**
 * Popularity^b over the whole catalogue (spec 5-22): Q(t) = F(t)^b / Σ F^b, O(1) draws from an
 * alias table. Popular items are over-sampled as negatives, balancing their dominance among the
 * positives, while b < 1 keeps the tail covered.
 */
class Popularity extends CatalogueBase {
  readonly name: string;
  private table: AliasTable | null = null;
  constructor(private readonly o: PopularityOptions) {
    super(o, "popularity");
    const b = o.power ?? 0.75;
    assert(b >= 0 && Number.isFinite(b), () => `negatives.popularity: power must be ≥ 0, got ${b}`);
    assert((o.smoothing ?? 0) >= 0, () => `negatives.popularity: smoothing must be ≥ 0, got ${o.smoothing}`);
    this.name = `popularity^${b}`;
  }
  prepare(stats: SamplerStats): void {
    const b = this.o.power ?? 0.75;
    const sm = this.o.smoothing ?? 0;
    const w = new Float64Array(stats.nItems);
    for (let i = 0; i < w.length; i++)
      w[i] = (stats.counts[i] + sm) ** b * (stats.counts[i] + sm > 0 ? 1 : 0);
    this.table = new AliasTable(w);
    this.setProb(this.table.prob);
  }
  drawInto(rng: Rng, out: Int32Array, from: number, n: number): void {
    (this.table as AliasTable).sampleInto(rng, out, from, from + n);
  }
}

/** @example negatives.popularity({ power: 0.75, count: 5 }) */
export function popularity(o: PopularityOptions = {}): CatalogueBase {
  return new Popularity(o);
}
