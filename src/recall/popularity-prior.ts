/**
 * A popularity prior added at serving to any embedding model:
 *
 *   score(u, i) = s(u, i) + β · log(1 + n_i),   n_i = item i's training interactions.
 *
 * Why: recipes trained against popularity (uniform or −log Q-corrected negatives, spec §5.2.2,
 * 5-12) learn scores with the popularity share taken out, which is what makes them cover the long
 * tail; adding part of it back when serving trades coverage for accuracy (the deconfounded-then-
 * adjusted scheme of PDA, Zhang et al. SIGIR'21). β is chosen on a validation slice of the
 * training data (`selectPopularityPrior`), never on the test split.
 *
 * It stays one inner product, so ANN indexes and the blocked evaluation serve it unchanged: users
 * get a constant 1 and items β·log(1 + n_i) as one extra coordinate (`embeddings()`), and an ANN
 * channel over such a model uses metric "ip".
 */
import { join } from "node:path";
import { userItemCsr } from "../data/matrix.ts";
import { splitRandom, withSplit } from "../data/split.ts";
import { assert } from "../errors.ts";
import { evaluateEmbeddings } from "../eval/evaluate.ts";
import { BruteForceIndex } from "../index/brute-force.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import type { Csr } from "../math/csr.ts";
import type { TopK } from "../math/topk.ts";
import type { Embeddings, Recommender, RecommendOptions } from "../recommender.ts";
import type { Dataset } from "../types.ts";
import { defaultWorkers } from "../workers.ts";

export const POPULARITY_PRIOR_TYPE = "popularity-prior";

/** A β selection running off the caller's thread (the registry's worker); `stop` ends it early. */
export interface RemoteSelection {
  readonly result: Promise<PriorSelection>;
  stop(): Promise<void>;
}

export function checkPrior(beta: unknown, who: string): number {
  assert(
    typeof beta === "number" && Number.isFinite(beta) && beta >= 0,
    () =>
      `${who}: popularityPrior must be a number ≥ 0 (β of score + β·log(1 + count)) or "auto", got ${String(beta)}`,
  );
  return beta;
}

/** β·log(1 + n_i) for every item of `train` (users × items). */
export function popularityBias(train: Csr, beta: number): Float32Array {
  const n = new Float64Array(train.nCols);
  for (let e = 0; e < train.indices.length; e++) n[train.indices[e]]++; // users per item
  const b = new Float32Array(train.nCols);
  for (let i = 0; i < b.length; i++) b[i] = beta * Math.log1p(n[i]);
  return b;
}

/** The factors with one extra coordinate: users · 1, items · bias (score = u·v + bias). */
export function withItemBias(e: Embeddings, bias: Float32Array): Embeddings {
  const d = e.dim;
  const nU = e.users.length / d;
  const nI = e.items.length / d;
  assert(bias.length === nI, () => `item bias has ${bias.length} entries, the model has ${nI} items`);
  const users = new Float32Array(nU * (d + 1));
  const items = new Float32Array(nI * (d + 1));
  for (let u = 0; u < nU; u++) {
    users.set(e.users.subarray(u * d, (u + 1) * d), u * (d + 1));
    users[u * (d + 1) + d] = 1;
  }
  for (let i = 0; i < nI; i++) {
    items.set(e.items.subarray(i * d, (i + 1) * d), i * (d + 1));
    items[i * (d + 1) + d] = bias[i];
  }
  return { dim: d + 1, users, items };
}

type WithFoldIn = Recommender & { foldInUser(items: Int32Array): Float32Array };

/** A query of the inner model as a query of the augmented vectors: v · 1. */
function withOne(v: Float32Array): Float32Array {
  const q = new Float32Array(v.length + 1);
  q.set(v);
  q[v.length] = 1;
  return q;
}

/**
 * Wraps an embedding model; every user-facing score gets the prior. β "auto" is chosen at `fit`
 * by `selectPopularityPrior` on a model from `make` (one extra fit on 90% of the data).
 */
export class PopularityPrior implements Recommender {
  readonly kind: string;
  /** The validation table behind an "auto" β (null when β was given). */
  selection: PriorSelection | null = null;
  /** Whether that selection ran in a worker thread beside the final fit. */
  selectedInWorker = false;
  /** Present when the inner model has it (FM, two-tower): its cold-start query · 1. */
  readonly userVectorFromFeatures?: NonNullable<Recommender["userVectorFromFeatures"]>;
  private b: number;
  private bias: Float32Array | null = null;
  private aug: Embeddings | null = null;
  private index: BruteForceIndex | null = null;

  constructor(
    readonly inner: Recommender,
    beta: number | "auto",
    private readonly make?: () => Recommender,
    /**
     * Starts the same selection in a worker thread (the registry passes one for its models), so
     * "auto" fits the validation model and the final one side by side; null if it cannot start.
     */
    private readonly selectElsewhere?: (data: Dataset) => RemoteSelection | null,
  ) {
    assert(
      inner.embeddings !== undefined,
      () => `${inner.kind}: popularityPrior needs a model with embeddings (a factor/embedding model)`,
    );
    assert(
      beta !== "auto" || make !== undefined,
      () => `${inner.kind}: popularityPrior "auto" needs a factory for the validation model`,
    );
    this.b = beta === "auto" ? Number.NaN : checkPrior(beta, inner.kind);
    this.kind = inner.kind;
    const cold = inner.userVectorFromFeatures;
    if (cold !== undefined)
      this.userVectorFromFeatures = (attributes, recent) => {
        const v = cold.call(inner, attributes, recent);
        return v === null ? null : withOne(v);
      };
  }

  /** β (NaN while an "auto" β is not chosen yet). */
  get beta(): number {
    return this.b;
  }

  async fit(data: Dataset): Promise<this> {
    if (this.make !== undefined && (Number.isNaN(this.b) || this.selection !== null)) {
      // The validation fit that picks β and the final fit are independent: with a spare core and
      // a model the worker can rebuild by name, they run side by side (same β either way).
      const selecting = defaultWorkers() > 1 ? (this.selectElsewhere?.(data) ?? null) : null;
      this.selectedInWorker = selecting !== null;
      if (selecting !== null) {
        try {
          await this.inner.fit(data);
        } catch (err) {
          await selecting.stop();
          throw err;
        }
        this.selection = await selecting.result;
      } else {
        this.selection = await selectPopularityPrior(this.make, data);
        await this.inner.fit(data);
      }
      this.b = this.selection.beta;
    } else await this.inner.fit(data);
    const e = this.innerEmbeddings();
    this.setBias(popularityBias(userItemCsr(data.train, data.users.size, e.items.length / e.dim), this.b));
    return this;
  }

  private innerEmbeddings(): Embeddings {
    return (this.inner.embeddings as () => Embeddings).call(this.inner);
  }

  private setBias(b: Float32Array): void {
    this.bias = b;
    this.aug = null;
    this.index = null;
  }

  /** The score is the inner product of the augmented vectors: ANN over them must use "ip". */
  get annMetric(): { metric: "ip"; why: string } {
    return {
      metric: "ip",
      why: `a popularity prior (β ${this.b}): its score is the inner product of the augmented vectors`,
    };
  }

  /**
   * An item as a query: its augmented row with the bias coordinate set to 1, so neighbours are
   * scored v_seed·v_i + bias_i like every other list of the model.
   */
  i2iQueries(items: Int32Array): Float32Array {
    const e = this.embeddings();
    const d = e.dim;
    const q = new Float32Array(items.length * d);
    items.forEach((it, s) => {
      q.set(e.items.subarray(it * d, (it + 1) * d), s * d);
      q[(s + 1) * d - 1] = 1;
    });
    return q;
  }

  embeddings(): Embeddings {
    assert(this.bias !== null, () => `${this.kind}: call fit() or load() first`, "RK_ERR_NOT_FITTED");
    this.aug ??= withItemBias(this.innerEmbeddings(), this.bias);
    return this.aug;
  }

  /** Exact scoring over the augmented vectors (the same top-k as the evaluation and a Flat index). */
  private scorer(): BruteForceIndex {
    if (this.index === null) {
      const e = this.embeddings();
      this.index = new BruteForceIndex(e.dim, "ip");
      this.index.add(e.items);
    }
    return this.index;
  }

  recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK {
    const e = this.embeddings();
    const d = e.dim;
    const nU = e.users.length / d;
    const q = new Float32Array(users.length * d);
    for (let r = 0; r < users.length; r++) {
      assert(
        users[r] >= 0 && users[r] < nU,
        () => `${this.kind}.recommend: users[${r}] = ${users[r]} is outside [0, ${nU})`,
      );
      q.set(e.users.subarray(users[r] * d, (users[r] + 1) * d), r * d);
    }
    const ex = opts.exclude ?? null;
    return this.scorer().searchBatch(
      q,
      users.length,
      k,
      ex === null ? {} : { exclude: { ...ex, rows: users } },
    );
  }

  /**
   * A new user's query from her recent items, · 1: the inner model's own (its feature query, e.g.
   * the two-tower's history tower, or its fold-in), else the mean of the items' vectors.
   */
  foldInUser(recent: Int32Array): Float32Array {
    const e = this.embeddings();
    const d = e.dim - 1;
    const own = this.userVectorFromFeatures?.({}, recent);
    if (own !== undefined && own !== null) return own;
    const inner = this.inner as Partial<WithFoldIn>;
    if (typeof inner.foldInUser === "function") return withOne(inner.foldInUser(recent));
    const q = new Float32Array(d + 1);
    const items = this.innerEmbeddings().items;
    for (const it of recent) for (let j = 0; j < d; j++) q[j] += items[it * d + j] / recent.length;
    q[d] = 1;
    return q;
  }

  recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    return this.scorer().search(this.foldInUser(recent), k, exclude === undefined ? {} : { exclude });
  }

  /** Item–item similarity is the inner model's: the prior ranks items for users, not neighbours. */
  similarItems(items: Int32Array, k: number): TopK {
    assert(this.inner.similarItems !== undefined, () => `${this.kind}: no similarItems`);
    return this.inner.similarItems(items, k);
  }

  params(): Record<string, unknown> {
    const sel = this.selection;
    return {
      ...this.inner.params(),
      popularityPrior: this.b,
      ...(sel === null ? {} : { popularityPriorSelection: { k: sel.k, table: sel.table } }),
    };
  }

  /** One artifact: the prior's manifest and bias, the inner model in `model/`, renamed in together. */
  async save(dir: string): Promise<void> {
    assert(this.bias !== null, () => `${this.kind}: call fit() or load() first`, "RK_ERR_NOT_FITTED");
    await writeArtifact(
      dir,
      { type: POPULARITY_PRIOR_TYPE, params: { beta: this.b, model: this.inner.kind } },
      { "bias.npy": { npy: this.bias, shape: [this.bias.length] } },
      (tmp) => this.inner.save(join(tmp, "model")),
    );
  }

  /** `loadInner` is the registry's loader (kept as a parameter: the registry imports this module). */
  static async load(dir: string, loadInner: (dir: string) => Promise<Recommender>): Promise<PopularityPrior> {
    const a = await readArtifact(dir, POPULARITY_PRIOR_TYPE);
    const beta = checkPrior(a.manifest.params.beta, `${dir}/manifest.json`);
    const bias = await a.npy("bias.npy");
    assert(bias.data instanceof Float32Array, () => `${dir}/bias.npy: must be float32`, "RK_ERR_ARTIFACT");
    const m = new PopularityPrior(await loadInner(join(dir, "model")), beta);
    const e = m.inner.embeddings?.();
    assert(
      e !== undefined && e.items.length / e.dim === bias.data.length,
      () => `${dir}: bias.npy holds ${bias.data.length} items, the model in model/ does not match`,
      "RK_ERR_ARTIFACT",
    );
    m.setBias(bias.data);
    return m;
  }
}

/** β candidates of `selectPopularityPrior` (cosine scores: a step of 0.01 is 1% of their range). */
export const DEFAULT_PRIOR_GRID: readonly number[] = [
  0, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08,
];

export interface PriorSelection {
  readonly beta: number;
  /** Validation Recall@k for every β of the grid. */
  readonly table: readonly { beta: number; recall: number; ndcg: number; coverage: number }[];
  readonly k: number;
}

/**
 * Chooses β on a validation slice of the training data: a per-user random `1 − ratio` of `data`'s
 * training interactions is held out, `make()` is fitted on the rest, and the β of `grid` with the
 * best validation Recall@k wins (ties: the smaller β). The test split is never read.
 */
export async function selectPopularityPrior(
  make: () => Recommender,
  data: Dataset,
  opts: { grid?: readonly number[]; ratio?: number; seed?: number; k?: number } = {},
): Promise<PriorSelection> {
  const grid = opts.grid ?? DEFAULT_PRIOR_GRID;
  for (const b of grid) checkPrior(b, "selectPopularityPrior: grid");
  const k = opts.k ?? 20;
  const val = withSplit(data, splitRandom(data.train, { ratio: opts.ratio ?? 0.9, seed: opts.seed ?? 7 }));
  const model = make();
  assert(
    model.embeddings !== undefined,
    () => `${model.kind}: popularityPrior needs a model with embeddings`,
  );
  await model.fit(val);
  const e = model.embeddings();
  const nU = data.users.size;
  const nI = e.items.length / e.dim;
  const train = userItemCsr(val.train, nU, nI);
  const test = userItemCsr(val.test as Dataset["train"], nU, nI);
  const table: { beta: number; recall: number; ndcg: number; coverage: number }[] = [];
  for (const beta of grid) {
    const r = await evaluateEmbeddings(withItemBias(e, popularityBias(train, beta)), train, test, {
      ks: [k],
    });
    table.push({
      beta,
      recall: r.metrics[`recall@${k}`],
      ndcg: r.metrics[`ndcg@${k}`],
      coverage: r.metrics[`coverage@${k}`],
    });
  }
  let best = table[0];
  for (const row of table) if (row.recall > best.recall) best = row;
  return { beta: best.beta, table, k };
}
