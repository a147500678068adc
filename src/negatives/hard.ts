import { assert } from "../errors.ts";
import type { Rng } from "../math/rng.ts";
import type { CatalogueSampler, NegativeSampler, SampleRequest, SamplerStats } from "./types.ts";

/**
 * A user-supplied hard-negative source: an item that resembles the positive but is wrong for the
 * query (same market, host rejection, PageRank rank band 3000–5000, exposure-not-click — spec
 * §5.2.2), or −1 when it has none for this row.
 */
export type HardNegativeSource = (query: number, positive: number, rng: Rng) => number;

export interface HardOptions {
  /** The easy sampler, per row (not shared). */
  readonly easy: CatalogueSampler;
  readonly source: HardNegativeSource;
  /** easy : hard. Each negative slot is hard with probability 1/(ratio + 1). Default 100 (Facebook EBR). */
  readonly ratio?: number;
}

/**
 * Hard-negative injection: hard negatives complement the easy ones, never replace them (spec
 * §5.2.2, Easy:Hard = 100:1). log Q stays the easy sampler's: a hard negative's Q has no
 * catalogue form, and at 1% of slots its correction hardly matters.
 */
class Hard implements NegativeSampler {
  readonly name: string;
  readonly shared = false;
  readonly inBatch = false;
  readonly count: number;
  readonly prob: Float64Array | null = null;
  private readonly pHard: number;

  constructor(private readonly o: HardOptions) {
    const ratio = o.ratio ?? 100;
    assert(ratio >= 0, () => `negatives.hard: ratio must be ≥ 0, got ${ratio}`);
    assert(!o.easy.shared, () => "negatives.hard: the easy sampler must draw per row (shared: false)");
    this.pHard = 1 / (ratio + 1);
    this.count = o.easy.count;
    this.name = `hard(${o.easy.name}, ${ratio}:1)`;
  }

  prepare(stats: SamplerStats): void {
    this.o.easy.prepare(stats);
  }

  sampleInto(rng: Rng, req: SampleRequest, out: Int32Array): void {
    const k = this.count;
    this.o.easy.drawInto(rng, out, 0, req.rows * k);
    for (let r = 0; r < req.rows; r++) {
      for (let j = 0; j < k; j++) {
        if (rng.next() >= this.pHard) continue;
        const h = this.o.source(req.queryIds[r], req.posIds[r], rng);
        if (h >= 0) out[r * k + j] = h;
      }
    }
  }

  observe(): void {}

  logQInto(items: Int32Array, n: number, out: Float32Array, outOff: number): void {
    this.o.easy.logQInto(items, n, out, outOff);
  }
}

/** @example negatives.hard({ easy: negatives.uniform({ count: 4 }), source: sameCity, ratio: 100 }) */
export function hard(o: HardOptions): NegativeSampler {
  return new Hard(o);
}
