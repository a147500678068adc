import { assert } from "../errors.ts";
import { LOG_Q_FLOOR, type NegativeSampler, type SampleRequest, type SamplerStats } from "./types.ts";

export interface InBatchOptions {
  /**
   * How Q(t) is known (spec §5.5.4 "采样概率修正"):
   * - "counts" (default): Q(t) = C(t) / Σ C, counted once from the training positives;
   * - "streaming": Yi et al., RecSys'19 — per item the step it was last seen and a moving
   *   average δ of the gap between sightings; an item appears in a batch once per δ steps, so
   *   per draw Q(t) ≈ 1 / (δ(t) · rows).
   */
  readonly estimator?: "counts" | "streaming";
  /** α of δ ← (1 − α)·δ + α·(step − last). Default 0.01. */
  readonly alpha?: number;
  /** Start δ from the counts (δ₀ = batches per epoch / C(t)) rather than from batches per epoch. Default true. */
  readonly warmStart?: boolean;
}

/**
 * In-batch negatives (spec §5.5.2, 5-30): row i's negatives are the other rows' positives, so they
 * cost no extra item encoding. They follow the click distribution (mostly popular items: hard
 * negatives, sample-selection bias), which logQ corrects. Draws nothing itself (count 0).
 */
export class InBatchSampler implements NegativeSampler {
  readonly name: string;
  readonly shared = true;
  readonly inBatch = true;
  readonly count = 0;
  readonly prob: Float64Array | null = null;
  private readonly streaming: boolean;
  private readonly alpha: number;
  private logQc: Float32Array = new Float32Array(0);
  /** streaming state: last step seen (−1: never) and gap estimate δ, per item. */
  private last: Float64Array = new Float64Array(0);
  private gap: Float64Array = new Float64Array(0);
  private rows = 1;

  constructor(private readonly o: InBatchOptions = {}) {
    this.streaming = (o.estimator ?? "counts") === "streaming";
    this.alpha = o.alpha ?? 0.01;
    assert(
      o.estimator === undefined || o.estimator === "counts" || o.estimator === "streaming",
      () => `negatives.inBatch: estimator must be "counts" or "streaming", got "${o.estimator}"`,
    );
    assert(
      this.alpha > 0 && this.alpha <= 1,
      () => `negatives.inBatch: alpha must be in (0, 1], got ${this.alpha}`,
    );
    this.name = `inBatch(${this.streaming ? "streaming" : "counts"})`;
  }

  prepare(stats: SamplerStats): void {
    const n = stats.nItems;
    let total = 0;
    for (let i = 0; i < n; i++) total += stats.counts[i];
    this.logQc = new Float32Array(n);
    for (let i = 0; i < n; i++)
      this.logQc[i] = stats.counts[i] > 0 ? Math.log(stats.counts[i] / total) : LOG_Q_FLOOR;
    this.last = new Float64Array(n).fill(-1);
    this.gap = new Float64Array(n);
    const warm = this.o.warmStart ?? true;
    const bpe = Math.max(1, stats.batchesPerEpoch);
    for (let i = 0; i < n; i++) this.gap[i] = warm && stats.counts[i] > 0 ? bpe / stats.counts[i] : bpe;
  }

  sampleInto(): void {}

  observe(req: SampleRequest): void {
    this.rows = Math.max(1, req.rows);
    if (!this.streaming) return;
    const t = req.step;
    const a = this.alpha;
    for (let r = 0; r < req.rows; r++) {
      const y = req.posIds[r];
      const l = this.last[y];
      if (l === t) continue; // seen earlier in this same batch: one sighting per step
      if (l >= 0) this.gap[y] = (1 - a) * this.gap[y] + a * (t - l);
      this.last[y] = t;
    }
  }

  /** Per-draw probability estimate of item y. */
  q(y: number): number {
    return this.streaming ? 1 / (this.gap[y] * this.rows) : Math.exp(this.logQc[y]);
  }

  logQInto(items: Int32Array, n: number, out: Float32Array, outOff: number): void {
    if (!this.streaming) {
      for (let e = 0; e < n; e++) out[outOff + e] = this.logQc[items[e]];
      return;
    }
    const lr = Math.log(this.rows);
    for (let e = 0; e < n; e++) out[outOff + e] = -Math.log(this.gap[items[e]]) - lr;
  }
}

/** @example negatives.inBatch({ estimator: "streaming" }) */
export function inBatch(o: InBatchOptions = {}): InBatchSampler {
  return new InBatchSampler(o);
}
