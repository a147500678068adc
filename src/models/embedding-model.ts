/**
 * `EmbeddingModel`: the Recommender every recipe becomes (implicit's estimator outside, TFRS
 * composition inside). `fit` trains the recipe (train/trainer.ts); serving is plain dot of the
 * exported vectors (normalised under cosine, so dot = cosine): no −log Q, no temperature.
 * Vectors are saved as float32 .npy so NumPy/FAISS can load them.
 */
import { userItemCsr } from "../data/matrix.ts";
import { assert } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import type { Csr } from "../math/csr.ts";
import { Gemm } from "../math/gemm-wasm.ts";
import { TopK, TopKHeap, topKRowInto } from "../math/topk.ts";
import type { Embeddings, Recommender, RecommendOptions } from "../recommender.ts";
import type { Recipe, TrainOptions, TrainReport } from "../train/recipe.ts";
import { exportVectors, train } from "../train/trainer.ts";
import type { Dataset } from "../types.ts";

export interface EmbeddingModelOptions extends TrainOptions {
  /** Registry/manifest name. Default "embedding". */
  readonly kind?: string;
}

/** Users scored per block in `recommend` (one block of scores is block × nItems floats). */
const BLOCK = 64;

export class EmbeddingModel implements Recommender {
  readonly kind: string;
  /** The last fit's report (path, per-epoch loss/metric/time), null before fit or after load. */
  report: TrainReport | null = null;
  protected userVecs: Float32Array = new Float32Array(0);
  protected itemVecs: Float32Array = new Float32Array(0);
  protected dim = 0;
  protected nUsers = 0;
  protected nItems = 0;
  private readonly gemm = new Gemm();

  /** `recipe` null: a model restored by `load`, serving only. `given` is recorded as params. */
  constructor(
    protected readonly recipe: Recipe | null,
    protected readonly opts: EmbeddingModelOptions = {},
    protected readonly given: Record<string, unknown> = {},
  ) {
    this.kind = opts.kind ?? "embedding";
  }

  params(): Record<string, unknown> {
    const r = this.recipe;
    const { onProgress: _p, onEpoch: _e, optimizer, ...rest } = this.opts;
    const parts =
      r === null
        ? {}
        : {
            recipe: {
              positives: r.positives.name,
              negatives: r.negatives.name,
              query: r.query.name,
              item: r.item.name,
              loss: r.loss.name,
              score: r.score,
            },
          };
    return { ...this.given, ...rest, ...(optimizer ? { optimizer: optimizer.name } : {}), ...parts };
  }

  async fit(data: Dataset): Promise<this> {
    const r = this.recipe;
    assert(r !== null, () => `${this.kind}: a loaded model serves only; build a new one to fit`);
    const { report, info } = await train(r, data, this.opts);
    this.report = report;
    const v = exportVectors(r);
    this.dim = v.dim;
    this.nItems = info.nTargets;
    this.itemVecs = v.items;
    this.nUsers = data.users.size;
    if (info.querySpace === "users") this.userVecs = v.queries;
    else {
      // I2I/U2U recipes: a user is the mean of her training items' vectors.
      this.userVecs = new Float32Array(this.nUsers * this.dim);
      const m = userItemCsr(data.train, this.nUsers, data.items.size);
      for (let u = 0; u < this.nUsers; u++)
        this.meanInto(m.indices, m.offsets[u], m.offsets[u + 1], this.userVecs, u * this.dim);
    }
    return this;
  }

  embeddings(): Embeddings {
    this.check();
    return { dim: this.dim, users: this.userVecs, items: this.itemVecs };
  }

  recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK {
    this.check();
    for (let i = 0; i < users.length; i++) {
      assert(
        users[i] >= 0 && users[i] < this.nUsers,
        () => `${this.kind}.recommend: users[${i}] = ${users[i]} is outside [0, ${this.nUsers})`,
      );
    }
    const ex = opts.exclude ?? null;
    return this.topK(
      users.length,
      k,
      (b0, n, into) => {
        for (let i = 0; i < n; i++)
          into.set(
            this.userVecs.subarray(users[b0 + i] * this.dim, (users[b0 + i] + 1) * this.dim),
            i * this.dim,
          );
      },
      (row) => (ex !== null && users[row] < ex.nRows ? [ex, users[row]] : null),
    );
  }

  similarItems(items: Int32Array, k: number): TopK {
    this.check();
    const self = new Int32Array(1);
    const csr: Csr = {
      nRows: 1,
      nCols: this.nItems,
      offsets: Int32Array.of(0, 1),
      indices: self,
      values: null,
    };
    return this.topK(
      items.length,
      k,
      (b0, n, into) => {
        for (let i = 0; i < n; i++)
          into.set(
            this.itemVecs.subarray(items[b0 + i] * this.dim, (items[b0 + i] + 1) * this.dim),
            i * this.dim,
          );
      },
      (row) => {
        self[0] = items[row];
        return [csr, 0];
      },
    );
  }

  /** Query = mean of the recent items' vectors (under cosine its norm does not change the ranking). */
  recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    this.check();
    const sorted = exclude === undefined ? new Int32Array(0) : Int32Array.from(new Set(exclude)).sort();
    const csr: Csr = {
      nRows: 1,
      nCols: this.nItems,
      offsets: Int32Array.of(0, sorted.length),
      indices: sorted,
      values: null,
    };
    return this.topK(
      1,
      k,
      (_b0, _n, into) => this.meanInto(recent, 0, recent.length, into, 0),
      () => [csr, 0],
    );
  }

  /** Blocked scoring of n queries against all items, seen items masked, bounded heap per row. */
  private topK(
    n: number,
    k: number,
    fill: (b0: number, n: number, into: Float32Array) => void,
    excl: (row: number) => [Csr, number] | null,
  ): TopK {
    const out = new TopK(n, k);
    const d = this.dim;
    const nI = this.nItems;
    const q = new Float32Array(Math.min(BLOCK, n) * d);
    const scores = new Float32Array(Math.min(BLOCK, n) * nI);
    const heap = new TopKHeap(k);
    for (let b0 = 0; b0 < n; b0 += BLOCK) {
      const m = Math.min(BLOCK, n - b0);
      fill(b0, m, q);
      this.gemm.nt(q, 0, m, this.itemVecs, 0, nI, d, scores, 0, nI);
      for (let i = 0; i < m; i++) {
        const e = excl(b0 + i);
        if (e === null) topKRowInto(scores, i * nI, nI, null, 0, 0, heap, out, b0 + i);
        else
          topKRowInto(
            scores,
            i * nI,
            nI,
            e[0].indices,
            e[0].offsets[e[1]],
            e[0].offsets[e[1] + 1],
            heap,
            out,
            b0 + i,
          );
      }
    }
    return out;
  }

  private meanInto(ids: Int32Array, from: number, to: number, out: Float32Array, off: number): void {
    const d = this.dim;
    out.fill(0, off, off + d);
    if (to <= from) return;
    for (let e = from; e < to; e++) for (let j = 0; j < d; j++) out[off + j] += this.itemVecs[ids[e] * d + j];
    for (let j = 0; j < d; j++) out[off + j] /= to - from;
  }

  private check(): void {
    assert(this.dim > 0, () => `${this.kind}: call fit() or load() first`, "RK_ERR_NOT_FITTED");
  }

  async save(dir: string): Promise<void> {
    this.check();
    await writeArtifact(
      dir,
      {
        type: this.kind,
        params: this.params(),
        meta: { nUsers: this.nUsers, nItems: this.nItems, dim: this.dim, report: this.report },
      },
      {
        "users.npy": { npy: this.userVecs, shape: [this.nUsers, this.dim] },
        "items.npy": { npy: this.itemVecs, shape: [this.nItems, this.dim] },
      },
    );
  }

  /** Restores vectors saved by any embedding model into a serving-only model of that kind. */
  static async load(dir: string, kind?: string): Promise<EmbeddingModel> {
    const a = await readArtifact(dir, kind);
    const m = new EmbeddingModel(null, { kind: a.manifest.type }, a.manifest.params);
    const users = await a.npy("users.npy");
    const items = await a.npy("items.npy");
    assert(
      users.data instanceof Float32Array && items.data instanceof Float32Array,
      () => `${dir}: embeddings must be float32`,
      "RK_ERR_ARTIFACT",
    );
    m.userVecs = users.data;
    m.itemVecs = items.data;
    m.nUsers = users.shape[0];
    m.nItems = items.shape[0];
    m.dim = items.shape[1];
    return m;
  }
}
