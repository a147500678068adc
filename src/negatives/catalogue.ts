/**
 * Glue shared by the catalogue samplers (uniform, popularity, log-uniform): the per-row/shared
 * layout, option checks and log Q lookups. Each sampler supplies only `prob` and a draw kernel.
 */
import { assert } from "../errors.ts";
import type { Rng } from "../math/rng.ts";
import { type CatalogueSampler, LOG_Q_FLOOR, type SampleRequest, type SamplerStats } from "./types.ts";

export interface CatalogueOptions {
  /** Negatives per row (default 1), or per batch when `shared`. */
  readonly count?: number;
  /** One set of `count` negatives for the whole batch (TF sampled softmax) instead of per row. Default false. */
  readonly shared?: boolean;
}

export abstract class CatalogueBase implements CatalogueSampler {
  abstract readonly name: string;
  readonly shared: boolean;
  readonly inBatch = false;
  readonly count: number;
  prob: Float64Array = new Float64Array(0);
  protected logProb: Float32Array = new Float32Array(0);

  constructor(o: CatalogueOptions, what: string) {
    this.count = o.count ?? 1;
    this.shared = o.shared ?? false;
    assert(
      Number.isInteger(this.count) && this.count >= 0,
      () => `negatives.${what}: count must be an integer ≥ 0, got ${this.count}`,
    );
  }

  /** Sets prob (normalised) and the log table; subclasses call it from `prepare`. */
  protected setProb(prob: Float64Array): void {
    this.prob = prob;
    this.logProb = new Float32Array(prob.length);
    for (let i = 0; i < prob.length; i++) this.logProb[i] = prob[i] > 0 ? Math.log(prob[i]) : LOG_Q_FLOOR;
  }

  abstract prepare(stats: SamplerStats): void;
  abstract drawInto(rng: Rng, out: Int32Array, from: number, n: number): void;

  sampleInto(rng: Rng, req: SampleRequest, out: Int32Array): void {
    this.drawInto(rng, out, 0, this.shared ? this.count : req.rows * this.count);
  }

  observe(): void {}

  logQInto(items: Int32Array, n: number, out: Float32Array, outOff: number): void {
    const lp = this.logProb;
    for (let e = 0; e < n; e++) out[outOff + e] = lp[items[e]];
  }
}
