import { assert } from "../errors.ts";
import type { Rng } from "../math/rng.ts";
import { type InBatchOptions, InBatchSampler } from "./in-batch.ts";
import type { CatalogueSampler, NegativeSampler, SampleRequest, SamplerStats } from "./types.ts";

export interface MixedOptions {
  /** The global (easy) sampler, e.g. `negatives.uniform()` or `negatives.popularity({ power: 0.75 })`. */
  readonly global: CatalogueSampler;
  /** Global negatives per batch, |B'|. Default 1024. */
  readonly nGlobal?: number;
  /** Options of the in-batch part's Q estimator. */
  readonly inBatch?: InBatchOptions;
}

/**
 * Mixed negative sampling (spec §5.5.2, 5-31/5-32; Yang et al. WWW'20): every row scores the
 * batch's positives (in-batch, hard) plus |B'| shared global draws (easy), and Q is the mixture
 *   Q(t) = |B|/(|B|+|B'|) · Q_in-batch(t) + |B'|/(|B|+|B'|) · Q_global(t).
 * The global draws come from a catalogue distribution rather than an item-vector cache: with ID
 * encoders an item's vector is a table row, so a cache would hold the same vectors.
 */
class Mixed implements NegativeSampler {
  readonly name: string;
  readonly shared = true;
  readonly inBatch = true;
  readonly count: number;
  readonly prob: Float64Array | null = null;
  private readonly ib: InBatchSampler;
  private rows = 1;
  private tmp: Float32Array = new Float32Array(0);

  constructor(private readonly o: MixedOptions) {
    this.count = o.nGlobal ?? 1024;
    assert(
      Number.isInteger(this.count) && this.count >= 0,
      () => `negatives.mixed: nGlobal must be an integer ≥ 0, got ${this.count}`,
    );
    assert(
      typeof o.global?.drawInto === "function",
      () => "negatives.mixed: global must be a catalogue sampler (uniform, popularity, logUniform)",
    );
    this.ib = new InBatchSampler(o.inBatch);
    this.name = `mixed(inBatch+${o.global.name}×${this.count})`;
  }

  prepare(stats: SamplerStats): void {
    this.o.global.prepare(stats);
    this.ib.prepare(stats);
  }

  sampleInto(rng: Rng, req: SampleRequest, out: Int32Array): void {
    this.rows = Math.max(1, req.rows);
    this.o.global.drawInto(rng, out, 0, this.count);
  }

  observe(req: SampleRequest): void {
    this.ib.observe(req);
  }

  logQInto(items: Int32Array, n: number, out: Float32Array, outOff: number): void {
    if (this.tmp.length < n) this.tmp = new Float32Array(n);
    const t = this.tmp;
    this.ib.logQInto(items, n, out, outOff);
    this.o.global.logQInto(items, n, t, 0);
    const wb = this.rows / (this.rows + this.count);
    const wg = 1 - wb;
    for (let e = 0; e < n; e++)
      out[outOff + e] = Math.log(wb * Math.exp(out[outOff + e]) + wg * Math.exp(t[e]));
  }
}

/** @example negatives.mixed({ global: negatives.uniform(), nGlobal: 2048 }) */
export function mixed(o: MixedOptions): NegativeSampler {
  return new Mixed(o);
}
