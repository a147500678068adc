/**
 * Two-tower retrieval (spec §5.5; YouTube RecSys'16, Yi et al. RecSys'19, Yang et al. WWW'20):
 * a user tower over id, attributes and the behaviour sequence and an item tower over id and
 * attributes (encoders/tower.ts), trained by in-batch softmax with τ and −log Q (5-30), optionally
 * mixed with shared global negatives (5-31/5-32; optionally scored from an item-vector cache), accidental
 * hits removed, cosine or dot (train/two-tower.ts). Serving: every item vector is exported for the
 * ANN index; a user vector comes from the user tower, so a user unseen in training gets one from
 * her recent items and attributes (`recommendFromItems`, `userVector`).
 *
 * Scenarios from one API: "u2i" (user → item), "i2i" (item → next item of the same session or
 * user history, both towers item-side), "u2u" (spec §5.2.1: one random half of a user's history →
 * the other half; both towers read an item bag). A u2u model answers `similarUsers` (query tower
 * over the user's history · target tower over every other user's history) and, as a recall
 * channel, recommends by U2U2I (UserCF-style): the items of the `neighbors` most similar users,
 * each item scored by the sum of those users' similarities (negative similarities count 0).
 * A u2u model has no item vectors, so it offers no `embeddings`/`similarItems`/cold-start vector:
 * evaluation and the service go through `recommend`/`recommendFromItems`.
 *
 * Linear towers can start from the graph instead of noise (`start: "spectral"`: GF-CF's low-pass
 * factorisation in the id and history rows), keep the history rows there as pretrained features
 * (`freezeHistory`) and drop the dense layer (`outputLayer: false`) — the cheap 256-d recipe
 * behind the Gowalla figure in BENCHMARKS.md.
 */

import { userItemCsr } from "../data/matrix.ts";
import type { Activation } from "../encoders/dense.ts";
import { type SpectralSide, spectralStart } from "../encoders/spectral-init.ts";
import {
  historyCsr,
  Tower,
  type TowerOptions,
  type TowerShape,
  type TowerStart,
  tower,
} from "../encoders/tower.ts";
import { assert } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import * as losses from "../losses/index.ts";
import type { Csr } from "../math/csr.ts";
import { Gemm } from "../math/gemm-wasm.ts";
import { Rng } from "../math/rng.ts";
import { TopK, TopKHeap, topKRowInto } from "../math/topk.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import type { PositiveSource } from "../positives/types.ts";
import type { RecommendOptions } from "../recommender.ts";
import { adam } from "../train/optimizers/adam.ts";
import type { Recipe, TrainOptions } from "../train/recipe.ts";
import { exportVectors } from "../train/trainer.ts";
import { trainTwoTower } from "../train/two-tower.ts";
import type { Dataset } from "../types.ts";
import { EmbeddingModel } from "./embedding-model.ts";

export type TwoTowerScenario = "u2i" | "i2i" | "u2u";

export interface TwoTowerOptions extends TrainOptions {
  /** Default "u2i". */
  readonly scenario?: TwoTowerScenario;
  /** Output vector size. Default 64. */
  readonly dim?: number;
  /** Feature embedding width. Default 32. */
  readonly embDim?: number;
  /** Hidden widths of both towers. Default [128]. */
  readonly layers?: readonly number[];
  /**
   * false: no dense layer — each tower's vector is the sum of its embedding blocks (needs layers []
   * and embDim = dim; encoders/tower.ts). Default true.
   */
  readonly outputLayer?: boolean;
  readonly activation?: Activation;
  /** User-side attribute fields (default all). */
  readonly userAttributes?: readonly string[];
  /** Item-side attribute fields (default all). */
  readonly itemAttributes?: readonly string[];
  /** Behaviour-sequence pooling of the user tower: "mean" (default), "attention" or "none". */
  readonly pooling?: "mean" | "attention" | "none";
  /** Attention query: "profile" (default) or "last". */
  readonly attentionQuery?: "profile" | "last";
  /**
   * Most recent items in the user tower's history. Default 50; u2u 1000 (its training halves are
   * unordered item bags, so a short cut would keep arbitrary items, not the recent ones).
   */
  readonly maxHistory?: number;
  /**
   * Keep the user tower's history item rows at their start (with `start: "spectral"`, the
   * graph's d_i^-1/2 v_i: pretrained item features); the tower still learns its id rows and the
   * layer over the pooled history. Mean pooling; makes an epoch several times cheaper at large
   * embDim (encoders/tower.ts `history.frozen`). Default false.
   */
  readonly freezeHistory?: boolean;
  /** Embed the user id (default true). */
  readonly userId?: boolean;
  /** Probability of zeroing the user-id block in training. Default 0. */
  readonly idDropout?: number;
  /**
   * "softmax" (default): sampled softmax with τ and −log Q (5-30). "ccl": SimpleX's cosine
   * contrastive loss (1 − cos⁺) + w · mean max(0, cos⁻ − m) over the same negatives; it reads raw
   * cosines, so τ and −log Q do not apply.
   */
  readonly loss?: "softmax" | "ccl";
  /** CCL: margin m (default 0.9) and negative weight w (default 150), SimpleX's Gowalla setting. */
  readonly margin?: number;
  readonly negativeWeight?: number;
  /** τ. Default 0.1. */
  readonly temperature?: number;
  /** Subtract log Q. Default true. */
  readonly logQ?: boolean;
  /** Q of the in-batch part: "counts" (default) or "streaming" (Yi et al.). */
  readonly estimator?: "counts" | "streaming";
  /**
   * "in-batch" (default), "mixed" (in-batch + `nGlobal` shared global negatives) or "global"
   * (the `nGlobal` shared global negatives alone, SimpleX's/MF-CCL's layout).
   */
  readonly negatives?: "in-batch" | "mixed" | "global";
  /** Global negatives per batch under "mixed" and "global". Default 1024. */
  readonly nGlobal?: number;
  /** b of the global negatives' popularity^b (0 = uniform, default). */
  readonly globalPower?: number;
  /** Score global negatives from an item-vector cache, no gradient into them (default false; see trainTwoTower). */
  readonly negativeCache?: boolean;
  readonly cacheRefresh?: number;
  /** Remove accidental hits (default true). */
  readonly accidentalHits?: boolean;
  /** "cosine" (default) or "dot". */
  readonly score?: "cosine" | "dot";
  /** Adam learning rate (default 0.003) and L2. */
  readonly lr?: number;
  readonly l2?: number;
  /**
   * "random" (default) or "spectral" (u2i, linear towers with embDim = dim): the user-id, history
   * and item-id rows start at the graph's low-pass factorisation (encoders/spectral-init.ts) and
   * each tower's output layer at the sum of its blocks, so training starts from the graph's
   * smooth directions instead of noise (a cosine model drops the items' d_i^1/2 norms; `score:
   * "dot"` keeps them).
   */
  readonly start?: "random" | "spectral";
  /** u2u: similar users whose items `recommend` scores (U2U2I). Default 50. */
  readonly neighbors?: number;
  /** Optional hard negatives (library only): per-row easy uniform negatives + this source at 100:1. */
  readonly hard?: negatives.HardNegativeSource;
}

/** The model options saved in its artifact (the registry adds the training-loop ones). */
export const TWO_TOWER_MODEL_OPTIONS = [
  "scenario",
  "dim",
  "embDim",
  "layers",
  "outputLayer",
  "activation",
  "userAttributes",
  "itemAttributes",
  "pooling",
  "attentionQuery",
  "maxHistory",
  "freezeHistory",
  "userId",
  "idDropout",
  "loss",
  "margin",
  "negativeWeight",
  "temperature",
  "logQ",
  "estimator",
  "negatives",
  "nGlobal",
  "globalPower",
  "negativeCache",
  "cacheRefresh",
  "accidentalHits",
  "score",
  "lr",
  "l2",
  "neighbors",
  "start",
] as const;

function towerOptions(o: TwoTowerOptions, which: "query" | "item", start?: TowerStart): TowerOptions {
  const sc = o.scenario ?? "u2i";
  const common = {
    dim: o.dim ?? 64,
    embDim: o.embDim ?? 32,
    layers: o.layers ?? [128],
    outputLayer: o.outputLayer,
    activation: o.activation,
    start,
  };
  if (sc === "u2u")
    return { ...common, side: "user", id: false, attributes: [], history: { maxLen: o.maxHistory ?? 1000 } };
  if (which === "item" || sc === "i2i")
    return { ...common, side: "item", attributes: o.itemAttributes, history: false };
  const pooling = o.pooling ?? "mean";
  return {
    ...common,
    side: "user",
    id: o.userId ?? true,
    attributes: o.userAttributes,
    idDropout: o.idDropout,
    history:
      pooling === "none"
        ? false
        : {
            pooling,
            query: o.attentionQuery ?? "profile",
            maxLen: o.maxHistory ?? 50,
            frozen: o.freezeHistory ?? false,
          },
  };
}

/** I2I positives: consecutive distinct items of each user's time-ordered history (log order without time). */
export function nextItemPairs(data: Dataset): PositiveSource {
  const h = historyCsr(data, data.users.size);
  const q: number[] = [];
  const t: number[] = [];
  for (let u = 0; u < h.nRows; u++) {
    for (let e = h.offsets[u] + 1; e < h.offsets[u + 1]; e++) {
      if (h.indices[e - 1] === h.indices[e]) continue;
      q.push(h.indices[e - 1]);
      t.push(h.indices[e]);
    }
  }
  const n = data.items.size;
  return positives.pairs({
    q: Int32Array.from(q),
    t: Int32Array.from(t),
    nQueries: n,
    nTargets: n,
    querySpace: "items",
  });
}

/** The two-tower recipe: towers, positives of the scenario, in-batch/mixed negatives, softmax with τ, −log Q, accidental hits. */
export function twoTowerRecipe(o: TwoTowerOptions, data?: Dataset): Recipe {
  const sc = o.scenario ?? "u2i";
  assert(
    sc === "u2i" || sc === "i2i" || sc === "u2u",
    () => `two-tower: scenario must be u2i, i2i or u2u, got "${sc}"`,
  );
  const mode = o.negatives ?? "in-batch";
  assert(
    mode === "in-batch" || mode === "mixed" || mode === "global",
    () => `two-tower: negatives must be "in-batch", "mixed" or "global", got "${mode}"`,
  );
  const ib = { estimator: o.estimator ?? "counts" } as const;
  let sampler: negatives.NegativeSampler;
  if (o.hard !== undefined)
    sampler = negatives.hard({ easy: negatives.uniform({ count: 8 }), source: o.hard, ratio: 100 });
  else if (mode !== "in-batch") {
    const global = negatives.popularity({
      power: o.globalPower ?? 0,
      smoothing: 1,
      shared: true,
      count: o.nGlobal ?? 1024,
    });
    sampler =
      mode === "global" ? global : negatives.mixed({ global, nGlobal: o.nGlobal ?? 1024, inBatch: ib });
  } else sampler = negatives.inBatch(ib);
  const hits = (o.accidentalHits ?? true) ? [losses.transforms.accidentalHits()] : [];
  assert(
    o.loss === undefined || o.loss === "softmax" || o.loss === "ccl",
    () => `two-tower: loss must be "softmax" or "ccl", got "${o.loss}"`,
  );
  const loss =
    o.loss === "ccl"
      ? losses.ccl({ margin: o.margin ?? 0.9, negativeWeight: o.negativeWeight ?? 150, transforms: hits })
      : losses.softmax({
          transforms: [
            losses.transforms.temperature(o.temperature ?? 0.1),
            ...((o.logQ ?? true) ? [losses.transforms.logQ()] : []),
            ...hits,
          ],
        });
  const st = o.start ?? "random";
  assert(
    st === "random" || st === "spectral",
    () => `two-tower: start must be "random" or "spectral", got "${st}"`,
  );
  assert(
    st === "random" || sc === "u2i",
    () => `two-tower: start "spectral" needs the u2i scenario (its rows are user and item factors)`,
  );
  let starts: { query?: TowerStart; item?: TowerStart } = {};
  if (st === "spectral") {
    const userId = o.userId ?? true;
    const history = (o.pooling ?? "mean") !== "none";
    const sides: SpectralSide[] = ["item"];
    if (userId) sides.push("query");
    if (history) sides.push("history");
    // scale: the tower's random start, N(0, 0.05²); a dot model keeps the items' d_i^1/2 norms
    const s = spectralStart({ sides, scale: 0.05, itemNorms: o.score === "dot" });
    starts = {
      query: { id: userId ? s.query : undefined, history: history ? s.history : undefined },
      item: { id: s.item },
    };
  }
  let pos: PositiveSource;
  if (sc === "u2i") pos = positives.userItem();
  else if (sc === "u2u") pos = positives.userSplit();
  else {
    assert(data !== undefined, () => "two-tower: the i2i scenario needs the dataset to build its pairs");
    pos = nextItemPairs(data);
  }
  return {
    positives: pos,
    negatives: sampler,
    query: tower(towerOptions(o, "query", starts.query)),
    item: tower(towerOptions(o, "item", starts.item)),
    loss,
    score: o.score ?? "cosine",
  };
}

export class TwoTower extends EmbeddingModel {
  private userTower: Tower | null = null;
  private itemTower: Tower | null = null;
  private vocabs: Record<string, string[]> = {};
  /** i2i: the query tower's vector of every item (a user is the mean over her history). */
  private queryItemVecs: Float32Array | null = null;
  private serveGemm = new Gemm();
  /** u2u: the target tower's vector of every user's history (the index `similarUsers` searches). */
  private peerVecs: Float32Array = new Float32Array(0);
  /** u2u: each user's training items (what U2U2I recommends from a similar user). */
  private userItems: Csr | null = null;

  constructor(private readonly o: TwoTowerOptions = {}) {
    const given: Record<string, unknown> = {};
    for (const k of TWO_TOWER_MODEL_OPTIONS) if (o[k] !== undefined) given[k] = o[k];
    const { epochs, batchSize, seed, patience, lrDecay, lrMilestones, lrGamma } = o;
    super(
      null,
      {
        epochs: epochs ?? 10,
        batchSize: batchSize ?? 1024,
        seed: seed ?? 42,
        patience: patience ?? Number.POSITIVE_INFINITY,
        lrDecay: lrDecay ?? 1,
        ...(lrMilestones === undefined ? {} : { lrMilestones }),
        ...(lrGamma === undefined ? {} : { lrGamma }),
        kind: "two-tower",
      },
      given,
    );
    const nb = o.neighbors ?? 50;
    assert(
      Number.isInteger(nb) && nb >= 1,
      () => `two-tower: neighbors must be an integer ≥ 1, got ${nb}`,
      "RK_ERR_INVALID_ARGUMENT",
    );
    if ((o.scenario ?? "u2i") === "u2u")
      // no item vectors: hide the factor-model capabilities so eval/serve use recommend
      for (const cap of ["embeddings", "similarItems", "userVectorFromFeatures"])
        Object.defineProperty(this, cap, { value: undefined, configurable: true });
  }

  override params(): Record<string, unknown> {
    return { ...this.given, epochs: this.opts.epochs, batchSize: this.opts.batchSize, seed: this.opts.seed };
  }

  override async fit(data: Dataset): Promise<this> {
    const o = this.o;
    const recipe = twoTowerRecipe(o, data);
    const { report, info } = await trainTwoTower(recipe, data, {
      ...o,
      epochs: o.epochs ?? 10,
      batchSize: o.batchSize ?? 1024,
      optimizer: o.optimizer ?? adam({ lr: o.lr ?? 0.003, l2: o.l2 ?? 0 }),
    });
    this.report = report;
    this.userTower = recipe.query as Tower;
    this.itemTower = recipe.item as Tower;
    if (this.scenario === "u2u") {
      // serve on the whole history: query side for the request, target side for the user index
      this.dim = recipe.item.dim;
      this.nUsers = data.users.size;
      this.nItems = data.items.size;
      const h = historyCsr(data, this.nUsers);
      this.userVecs = this.towerOver(this.userTower, h);
      this.peerVecs = this.towerOver(this.itemTower, h);
      for (let u = 0; u < this.nUsers; u++)
        if (h.offsets[u + 1] === h.offsets[u]) this.peerVecs.fill(0, u * this.dim, (u + 1) * this.dim);
      this.userItems = userItemCsr(data.train, this.nUsers, this.nItems);
      this.itemVecs = new Float32Array(0);
      this.queryItemVecs = null;
      this.vocabs = {};
      return this;
    }
    const v = exportVectors(recipe);
    this.dim = v.dim;
    this.nItems = info.nTargets;
    this.nUsers = data.users.size;
    this.itemVecs = v.items;
    if (info.querySpace === "users") this.userVecs = v.queries;
    else {
      // i2i: a user is the query tower's view of her history, mean-pooled
      const h = historyCsr(data, this.nUsers);
      this.userVecs = new Float32Array(this.nUsers * this.dim);
      for (let u = 0; u < this.nUsers; u++) {
        const a = h.offsets[u];
        const b = h.offsets[u + 1];
        for (let e = a; e < b; e++)
          for (let j = 0; j < this.dim; j++)
            this.userVecs[u * this.dim + j] += v.queries[h.indices[e] * this.dim + j];
      }
      if (recipe.score === "cosine") for (let u = 0; u < this.nUsers; u++) this.normalize(this.userVecs, u);
    }
    this.queryItemVecs = info.querySpace === "items" ? v.queries : null;
    this.vocabs = {};
    if (this.scenario === "u2i")
      for (const f of this.userTower.fieldNames) {
        const fld = data.userAttributes.get(f);
        if (fld !== undefined) this.vocabs[f] = [...fld.vocab.ids()];
      }
    return this;
  }

  /** A tower's (normalised under cosine) vector of each row's history, in blocks. */
  private towerOver(t: Tower, h: Csr): Float32Array {
    const d = this.dim;
    const out = new Float32Array(h.nRows * d);
    const B = 256;
    for (let r0 = 0; r0 < h.nRows; r0 += B) {
      const m = Math.min(B, h.nRows - r0);
      const rows = Array.from({ length: m }, (_, i) => ({
        history: h.indices.subarray(h.offsets[r0 + i], h.offsets[r0 + i + 1]),
      }));
      t.forwardFeatures(rows, out.subarray(r0 * d, (r0 + m) * d));
    }
    if ((this.given.score ?? "cosine") === "cosine") for (let r = 0; r < h.nRows; r++) this.normalize(out, r);
    return out;
  }

  private get scenario(): TwoTowerScenario {
    return (this.given.scenario as TwoTowerScenario | undefined) ?? "u2i";
  }

  private normalize(x: Float32Array, r: number): void {
    const d = this.dim;
    let s = 0;
    for (let j = 0; j < d; j++) s += x[r * d + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) x[r * d + j] *= inv;
  }

  /** The user tower's vector for raw features (u2i: id/attributes/history; attribute values as strings). */
  userVector(f: {
    id?: number;
    attributes?: Record<string, readonly string[]>;
    history?: ArrayLike<number>;
  }): Float32Array {
    const t = this.userTower;
    assert(t !== null && this.dim > 0, () => "two-tower: call fit() or load() first", "RK_ERR_NOT_FITTED");
    const attrs: Record<string, number[]> = {};
    for (const [name, vals] of Object.entries(f.attributes ?? {})) {
      const voc = this.vocabs[name];
      assert(
        voc !== undefined,
        () => `two-tower: the user tower has no attribute "${name}"`,
        "RK_ERR_INVALID_ARGUMENT",
      );
      attrs[name] = vals.map((v) => voc.indexOf(v)).filter((i) => i >= 0);
    }
    const out = new Float32Array(this.dim);
    if (this.scenario === "i2i") {
      // i2i: the mean of the query tower's vectors of the recent items
      const qv = this.queryItemVecs as Float32Array;
      const h = f.history ?? [];
      for (let e = 0; e < h.length; e++) {
        assert(
          h[e] >= 0 && h[e] < this.nItems,
          () => `two-tower: item ${h[e]} is outside [0, ${this.nItems})`,
        );
        for (let j = 0; j < this.dim; j++) out[j] += qv[h[e] * this.dim + j];
      }
    } else t.forwardFeatures([{ id: f.id ?? -1, attributes: attrs, history: f.history }], out);
    if ((this.given.score ?? "cosine") === "cosine") this.normalize(out, 0);
    return out;
  }

  /** Cold start (Recommender contract): the user tower over the attributes it knows and the recent items. */
  userVectorFromFeatures(
    attributes: Readonly<Record<string, readonly string[]>>,
    recent: Int32Array,
  ): Float32Array | null {
    const own: Record<string, readonly string[]> = {};
    for (const name of Object.keys(this.vocabs))
      if (attributes[name] !== undefined) own[name] = attributes[name];
    if (Object.keys(own).length === 0 && recent.length === 0) return null;
    return this.userVector({ attributes: own, history: recent });
  }

  /**
   * Users most similar to a known user (index; herself excluded) or to a history of items (u2u
   * only): query tower over the history · target tower over every user's history.
   */
  similarUsers(query: number | ArrayLike<number>, k: number): TopK {
    this.checkU2u("similarUsers");
    if (typeof query === "number") {
      this.checkUser(query, "similarUsers");
      const q = this.userVecs.subarray(query * this.dim, (query + 1) * this.dim);
      return this.peers(q, 1, k, Int32Array.of(query));
    }
    return this.peers(this.userVector({ history: query }), 1, k, null);
  }

  /** u2i/i2i: dot of user and item vectors; u2u: U2U2I over the `neighbors` most similar users. */
  override recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK {
    if (this.scenario !== "u2u") return super.recommend(users, k, opts);
    for (let i = 0; i < users.length; i++) this.checkUser(users[i], "recommend");
    const d = this.dim;
    const q = new Float32Array(users.length * d);
    for (let i = 0; i < users.length; i++)
      q.set(this.userVecs.subarray(users[i] * d, (users[i] + 1) * d), i * d);
    const nb = this.peers(q, users.length, this.neighborCount(), users);
    const ex = opts.exclude ?? null;
    return this.itemsOfPeers(nb, k, (row) =>
      ex !== null && users[row] < ex.nRows
        ? [ex.indices, ex.offsets[users[row]], ex.offsets[users[row] + 1]]
        : null,
    );
  }

  private neighborCount(): number {
    return Math.min((this.given.neighbors as number | undefined) ?? 50, Math.max(1, this.nUsers - 1));
  }

  private checkU2u(what: string): void {
    assert(this.dim > 0, () => "two-tower: call fit() or load() first", "RK_ERR_NOT_FITTED");
    assert(
      this.scenario === "u2u",
      () => `two-tower.${what}: needs scenario "u2u", this model is "${this.scenario}"`,
      "RK_ERR_INVALID_ARGUMENT",
    );
  }

  private checkUser(u: number, what: string): void {
    assert(this.dim > 0, () => "two-tower: call fit() or load() first", "RK_ERR_NOT_FITTED");
    assert(
      Number.isInteger(u) && u >= 0 && u < this.nUsers,
      () => `two-tower.${what}: user ${u} is outside [0, ${this.nUsers})`,
      "RK_ERR_INVALID_ARGUMENT",
    );
  }

  /** Top-k users for n query vectors (row i leaves out user self[i] when given), blocked. */
  private peers(q: Float32Array, n: number, k: number, self: Int32Array | null): TopK {
    const d = this.dim;
    const nU = this.nUsers;
    const BLK = 64;
    const out = new TopK(n, k);
    const heap = new TopKHeap(k);
    const scores = new Float32Array(Math.min(BLK, n) * nU);
    for (let b0 = 0; b0 < n; b0 += BLK) {
      const m = Math.min(BLK, n - b0);
      this.serveGemm.nt(q, b0, m, this.peerVecs, 0, nU, d, scores, 0, nU);
      for (let i = 0; i < m; i++) {
        const r = b0 + i;
        topKRowInto(scores, i * nU, nU, self, r, self === null ? r : r + 1, heap, out, r);
      }
    }
    return out;
  }

  /** U2U2I: per row, Σ over its similar users (similarity > 0) of similarity × her items. */
  private itemsOfPeers(
    nb: TopK,
    k: number,
    exclude: (row: number) => [Int32Array, number, number] | null,
  ): TopK {
    const m = this.userItems as Csr;
    const acc = new Float32Array(this.nItems);
    const out = new TopK(nb.n, k);
    const heap = new TopKHeap(k);
    for (let r = 0; r < nb.n; r++) {
      for (let j = 0; j < nb.counts[r]; j++) {
        const v = nb.ids[r * nb.k + j];
        const w = nb.scores[r * nb.k + j];
        if (!(w > 0)) continue;
        for (let e = m.offsets[v]; e < m.offsets[v + 1]; e++) acc[m.indices[e]] += w;
      }
      const ex = exclude(r);
      if (ex === null) topKRowInto(acc, 0, this.nItems, null, 0, 0, heap, out, r);
      else topKRowInto(acc, 0, this.nItems, ex[0], ex[1], ex[2], heap, out, r);
      acc.fill(0);
    }
    return out;
  }

  /** Top-k for a user known only by her recent items (oldest first): the user tower, online. */
  override recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    return this.recommendFor({ history: recent }, k, exclude);
  }

  /** Top-k for raw user features (unseen users included). */
  recommendFor(
    f: { id?: number; attributes?: Record<string, readonly string[]>; history?: ArrayLike<number> },
    k: number,
    exclude?: ArrayLike<number>,
  ): TopK {
    const q = this.userVector(f);
    const ex = exclude === undefined ? null : Int32Array.from(new Set(Array.from(exclude))).sort();
    if (this.scenario === "u2u")
      return this.itemsOfPeers(this.peers(q, 1, this.neighborCount(), null), k, () =>
        ex === null ? null : [ex, 0, ex.length],
      );
    const scores = new Float32Array(this.nItems);
    this.serveGemm.nt(q, 0, 1, this.itemVecs, 0, this.nItems, this.dim, scores, 0, this.nItems);
    const out = new TopK(1, k);
    topKRowInto(scores, 0, this.nItems, ex, 0, ex === null ? 0 : ex.length, new TopKHeap(k), out, 0);
    return out;
  }

  override async save(dir: string): Promise<void> {
    const u = this.userTower;
    const it = this.itemTower;
    assert(
      u !== null && it !== null && this.dim > 0,
      () => "two-tower: call fit() first",
      "RK_ERR_NOT_FITTED",
    );
    const files: Parameters<typeof writeArtifact>[2] = {
      "users.npy": { npy: this.userVecs, shape: [this.nUsers, this.dim] },
    };
    const ui = this.userItems;
    if (this.scenario === "u2u" && ui !== null) {
      files["peers.npy"] = { npy: this.peerVecs, shape: [this.nUsers, this.dim] };
      files["user-items.offsets.npy"] = { npy: ui.offsets, shape: [ui.offsets.length] };
      files["user-items.indices.npy"] = { npy: ui.indices, shape: [ui.indices.length] };
    } else files["items.npy"] = { npy: this.itemVecs, shape: [this.nItems, this.dim] };
    u.parameters().forEach((p, k) => {
      files[`user-tower.${k}.npy`] = { npy: p, shape: [p.length] };
    });
    it.parameters().forEach((p, k) => {
      files[`item-tower.${k}.npy`] = { npy: p, shape: [p.length] };
    });
    if (this.queryItemVecs !== null)
      files["query-items.npy"] = { npy: this.queryItemVecs, shape: [this.nItems, this.dim] };
    await writeArtifact(
      dir,
      {
        type: this.kind,
        params: this.params(),
        meta: {
          nUsers: this.nUsers,
          nItems: this.nItems,
          dim: this.dim,
          report: this.report,
          userTower: { shape: u.shape, nParams: u.parameters().length },
          itemTower: { shape: it.shape, nParams: it.parameters().length },
          vocabs: this.vocabs,
        },
      },
      files,
    );
  }

  static override async load(dir: string): Promise<TwoTower> {
    const a = await readArtifact(dir, "two-tower");
    const p = a.manifest.params as TwoTowerOptions;
    const m = new TwoTower(p);
    const meta = a.manifest.meta as {
      nUsers: number;
      nItems: number;
      dim: number;
      userTower: { shape: TowerShape; nParams: number };
      itemTower: { shape: TowerShape; nParams: number };
      vocabs: Record<string, string[]>;
    };
    const u2u = (p.scenario ?? "u2i") === "u2u";
    const users = await a.npy("users.npy");
    const items = u2u ? await a.npy("peers.npy") : await a.npy("items.npy");
    assert(
      users.data instanceof Float32Array && items.data instanceof Float32Array,
      () => `${dir}: embeddings must be float32`,
      "RK_ERR_ARTIFACT",
    );
    if (u2u) {
      const off = await a.npy("user-items.offsets.npy");
      const idx = await a.npy("user-items.indices.npy");
      assert(
        off.data instanceof Int32Array &&
          idx.data instanceof Int32Array &&
          off.data.length === meta.nUsers + 1 &&
          off.data[meta.nUsers] === idx.data.length,
        () => `${dir}: user-items.*.npy must be an int32 CSR of ${meta.nUsers} users`,
        "RK_ERR_ARTIFACT",
      );
      m.userItems = {
        nRows: meta.nUsers,
        nCols: meta.nItems,
        offsets: off.data,
        indices: idx.data,
        values: null,
      };
      m.peerVecs = items.data;
    }
    const restore = async (
      which: "user" | "item",
      side: "query" | "item",
      info: { shape: TowerShape; nParams: number },
    ) => {
      const t = new Tower({ ...towerOptions(p, side), attributes: info.shape.fields.map((f) => f.name) });
      const params: Float32Array[] = [];
      for (let k = 0; k < info.nParams; k++) {
        const x = await a.npy(`${which}-tower.${k}.npy`);
        assert(
          x.data instanceof Float32Array,
          () => `${dir}: tower parameters must be float32`,
          "RK_ERR_ARTIFACT",
        );
        params.push(x.data);
      }
      t.restore(info.shape, params, new Rng(0));
      return t;
    };
    m.userTower = await restore("user", "query", meta.userTower);
    m.itemTower = await restore("item", "item", meta.itemTower);
    m.vocabs = meta.vocabs;
    if ("query-items.npy" in a.manifest.files) {
      const qi = await a.npy("query-items.npy");
      assert(
        qi.data instanceof Float32Array,
        () => `${dir}: query-items.npy must be float32`,
        "RK_ERR_ARTIFACT",
      );
      m.queryItemVecs = qi.data;
    }
    m.userVecs = users.data;
    m.itemVecs = u2u ? new Float32Array(0) : items.data;
    m.nUsers = meta.nUsers;
    m.nItems = meta.nItems;
    m.dim = meta.dim;
    return m;
  }

  /** Item vectors as served (for the ANN index: `index.add(model.itemVectors())`). */
  itemVectors(): Float32Array {
    return this.itemVecs;
  }
}
