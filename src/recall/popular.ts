/**
 * Popularity recall — the spec's "热门爆款" list (§5.1.1): one global list of the most consumed
 * items, optionally time-decayed, minus what each user has already seen. The baseline every
 * model must beat, and the cold-start channel of last resort.
 */
import { userItemCsr } from "../data/matrix.ts";
import { assert } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import { type Csr, csrHas } from "../math/csr.ts";
import { TopK } from "../math/topk.ts";
import type { Recommender, RecommendOptions } from "../recommender.ts";
import type { Dataset } from "../types.ts";

export interface PopularOptions {
  /**
   * Half-life in seconds for time decay: an interaction `age` seconds before the newest one
   * counts 2^(−age/halfLifeSec). 0 (default) counts every interaction once.
   */
  readonly halfLifeSec?: number;
  /** Count each (user, item) pair once (default true) rather than every repeated event. */
  readonly distinctUsers?: boolean;
}

export class Popular implements Recommender {
  readonly kind = "popular";
  private readonly opts: Required<PopularOptions>;
  /** Item scores and items in descending score order (ties: smaller index first). */
  private scores: Float64Array = new Float64Array(0);
  private order: Int32Array = new Int32Array(0);

  constructor(opts: PopularOptions = {}) {
    this.opts = { halfLifeSec: opts.halfLifeSec ?? 0, distinctUsers: opts.distinctUsers ?? true };
    assert(
      this.opts.halfLifeSec >= 0,
      () => `Popular: halfLifeSec must be ≥ 0, got ${this.opts.halfLifeSec}`,
    );
  }

  params(): Record<string, unknown> {
    return { ...this.opts };
  }

  async fit(data: Dataset): Promise<this> {
    const log = data.train;
    const nItems = data.items.size;
    const scores = new Float64Array(nItems);
    const decay = this.opts.halfLifeSec > 0 && log.ts !== null;
    if (!decay && this.opts.distinctUsers) {
      const m = userItemCsr(log, data.users.size, nItems);
      for (let e = 0; e < m.indices.length; e++) scores[m.indices[e]]++;
    } else {
      let newest = Number.NEGATIVE_INFINITY;
      if (decay) for (let e = 0; e < log.length; e++) newest = Math.max(newest, (log.ts as Float64Array)[e]);
      const lambda = decay ? Math.LN2 / this.opts.halfLifeSec : 0;
      for (let e = 0; e < log.length; e++) {
        scores[log.items[e]] += decay ? Math.exp(-lambda * (newest - (log.ts as Float64Array)[e])) : 1;
      }
    }
    this.setScores(scores);
    return this;
  }

  private setScores(scores: Float64Array): void {
    this.scores = scores;
    this.order = Int32Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  }

  /** The item popularity scores (per item index). */
  itemScores(): Float64Array {
    return this.scores;
  }

  recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK {
    this.check();
    const out = new TopK(users.length, k);
    const ex = opts.exclude ?? null;
    for (let r = 0; r < users.length; r++) this.fillRow(out, r, ex, users[r]);
    return out;
  }

  recommendFromItems(_recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    this.check();
    const out = new TopK(1, k);
    const seen = exclude === undefined ? null : new Set(exclude);
    let c = 0;
    for (let j = 0; j < this.order.length && c < k; j++) {
      const it = this.order[j];
      if (seen?.has(it)) continue;
      out.ids[c] = it;
      out.scores[c] = this.scores[it];
      c++;
    }
    out.counts[0] = c;
    return out;
  }

  private fillRow(out: TopK, r: number, ex: Csr | null, user: number): void {
    const k = out.k;
    let c = 0;
    for (let j = 0; j < this.order.length && c < k; j++) {
      const it = this.order[j];
      if (ex !== null && user < ex.nRows && csrHas(ex, user, it)) continue;
      out.ids[r * k + c] = it;
      out.scores[r * k + c] = this.scores[it];
      c++;
    }
    out.counts[r] = c;
  }

  private check(): void {
    assert(this.order.length > 0, () => "Popular: call fit() or load() first", "RK_ERR_NOT_FITTED");
  }

  async save(dir: string): Promise<void> {
    this.check();
    await writeArtifact(
      dir,
      { type: this.kind, params: this.params(), meta: { nItems: this.scores.length } },
      { "scores.npy": { npy: this.scores, shape: [this.scores.length] } },
    );
  }

  static async load(dir: string): Promise<Popular> {
    const a = await readArtifact(dir, "popular");
    const m = new Popular(a.manifest.params as PopularOptions);
    m.setScores((await a.npy("scores.npy")).data as Float64Array);
    return m;
  }
}
