/**
 * FM recall (spec §5.4): user fields and item fields (IDs, attributes, bucketised counts; no
 * user×item cross features), FM score (5-23/5-29) trained with BPR by default, popular positives
 * down-sampled by √(α/f) (5-21), negatives drawn ∝ F^b (5-22). Serving uses the augmented
 * vectors of 5-28: E_u = concat(1, Σv_u) computed from a request's features (so a new user
 * known only by attributes gets one), E_t = concat(W_t + V_tt, Σv_t) precomputed per item; the
 * first slot carries an item's own popularity, which dominates for users with few signals.
 * BPR + SGD runs the fused kernel (train/fm-train.ts, Hogwild over `workers`, lr decaying
 * linearly over the run); any other loss, sampler or optimizer goes through the generic loop
 * with the same encoders.
 *
 * Cold start (a user withheld from training, known by attributes): her score is
 * W_t + V_tt + (Σ v_attr)·Σ v_t, so the item term must hold popularity. Negatives drawn ∝ F^b
 * take b·log F(t) out of what FM learns (5-22's point, for warm users); `logQ: true` trains on
 * FM − log Q instead, so FM estimates log P(t | u) at any b and the item term keeps popularity.
 * Measured on ML-100k in BENCHMARKS.md ("FM recall").
 */
import { itemPopularity } from "../data/attributes.ts";
import { FmEncoder } from "../encoders/fm-encoder.ts";
import type { FmFeatureValues, FmFieldLayout } from "../encoders/fm-fields.ts";
import { assert } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import * as losses from "../losses/index.ts";
import type { Loss } from "../losses/types.ts";
import { Gemm } from "../math/gemm-wasm.ts";
import { TopK, TopKHeap, topKRowInto } from "../math/topk.ts";
import * as negatives from "../negatives/index.ts";
import type { NegativeSampler } from "../negatives/types.ts";
import * as positives from "../positives/index.ts";
import { type FmTrainExtras, fmFusable, fmTrain, RawCounts } from "../train/fm-train.ts";
import { adam } from "../train/optimizers/adam.ts";
import { sgd } from "../train/optimizers/sgd.ts";
import type { Dataset } from "../types.ts";
import { EmbeddingModel, type EmbeddingModelOptions } from "./embedding-model.ts";

export interface FmRecallOptions extends Omit<EmbeddingModelOptions, "kind"> {
  /** User fields: "id", user attributes ("age", "gender", …), "count:<n>" (a list or "id,age"). Default ["id"]. */
  readonly userFields?: readonly string[] | string;
  /** Item fields: "id", item attributes ("genre", "year", …), "count:<n>", "stat:<col>:<n>". Default ["id"]. */
  readonly itemFields?: readonly string[] | string;
  /** Size of v_i; serving vectors have dim + 1. Default 64. */
  readonly dim?: number;
  /** α of 5-21 (share of positives under which an item is always kept); 0 turns it off. Default 0. */
  readonly subsample?: number;
  /** b of 5-22: 0 uniform, 1 popularity. Default 0.75. */
  readonly power?: number;
  /** Negatives per positive. Default 1. */
  readonly negatives?: number;
  /** Replaces the sampler built from power/negatives (it is still prepared on raw counts F). */
  readonly sampler?: NegativeSampler;
  /** Default `losses.bpr({ reduction: "sum" })` (5-29). */
  readonly loss?: Loss;
  /**
   * Learning rate / L2 when no `optimizer` is given: SGD 0.05 (the start of the linear schedule) /
   * 0.001 (fused BPR), else Adam 0.01 / 0.
   */
  readonly lr?: number;
  readonly l2?: number;
  /** Initial N(0, scale²) of v_i. Default 0.1. */
  readonly initScale?: number;
  /**
   * Probability that a training pair sees its user without the "id" field (user-id dropout), so
   * the user attributes learn to score on their own, as they must for a user withheld from
   * training (`userVector` from attributes). Needs "id" among `userFields`. Default 0: on
   * ML-100k it lowered the withheld users' recall (BENCHMARKS.md, "FM recall").
   */
  readonly idDropout?: number;
  /**
   * Sampling-bias correction (spec ref. [20]): the BPR margin is taken on FM − log Q(t), Q the
   * negatives' distribution F^b/ΣF^b, so FM itself estimates log P(t | u) whatever b is and the
   * item term W_t + V_tt keeps each item's popularity (what a user known only by attributes
   * needs); b then only chooses which negatives are compared. Off, a larger b takes popularity
   * out of the scores (5-22's trade-off). Fused BPR path only. Default false.
   */
  readonly logQ?: boolean;
  /**
   * Learning-rate schedule of the fused SGD path: "linear" decays lr to lr/epochs over the run
   * (word2vec's schedule), "constant" keeps it. Default "linear".
   */
  readonly lrSchedule?: "linear" | "constant";
}

const BLOCK = 64;

/** Field specs as given: a list, or one comma-separated string (CLI `--param userFields=id,age`). */
function fieldList(f: readonly string[] | string | undefined): readonly string[] {
  if (f === undefined) return ["id"];
  return typeof f === "string" ? f.split(",").map((x) => x.trim()) : f;
}

export class FmRecall extends EmbeddingModel {
  private readonly userEnc: FmEncoder;
  private readonly itemEnc: FmEncoder;
  private readonly sampler: RawCounts;
  private readonly gemm2 = new Gemm();
  private readonly fmExtras: FmTrainExtras;

  constructor(o: FmRecallOptions = {}) {
    const dim = o.dim ?? 64;
    const scale = o.initScale ?? 0.1;
    const userEnc = new FmEncoder({
      role: "query",
      dim,
      scale,
      fields: fieldList(o.userFields),
      idDropout: o.idDropout ?? 0,
    });
    const itemEnc = new FmEncoder({ role: "item", dim, scale, fields: fieldList(o.itemFields) });
    const sampler = new RawCounts(
      o.sampler ?? negatives.popularity({ power: o.power ?? 0.75, count: o.negatives ?? 1 }),
    );
    const recipe = {
      positives: positives.userItem({ subsample: o.subsample ?? 0 }),
      negatives: sampler,
      query: userEnc,
      item: itemEnc,
      loss: o.loss ?? losses.bpr({ reduction: "sum" }),
      score: "dot" as const,
    };
    // Per-triple SGD suits the fused BPR path; batched losses sum a shared feature's gradient over
    // the batch (an "age" row is touched by most rows), which plain SGD at this lr blows up.
    const perTriple = o.loss === undefined || (o.loss.pairwise !== null && o.loss.reduction === "sum");
    const optimizer =
      o.optimizer ??
      (perTriple && o.fused !== false
        ? sgd({ lr: o.lr ?? 0.05, l2: o.l2 ?? 0.001 })
        : adam({ lr: o.lr ?? 0.01, l2: o.l2 ?? 0 }));
    const opts = { epochs: 20, ...o, optimizer };
    const { onEpoch: _e, onProgress: _p, sampler: _s, loss: _l, optimizer: _o, ...given } = o;
    super(
      recipe,
      { ...opts, kind: "fm" },
      {
        dim,
        subsample: 0,
        power: 0.75,
        negatives: 1,
        logQ: false,
        lrSchedule: "linear",
        idDropout: 0,
        ...given,
      },
    );
    this.userEnc = userEnc;
    this.itemEnc = itemEnc;
    this.sampler = sampler;
    this.fmExtras = { logQ: o.logQ ?? false, lrSchedule: o.lrSchedule ?? "linear" };
  }

  override async fit(data: Dataset): Promise<this> {
    const r = this.recipe;
    assert(r !== null, () => "fm: a loaded model serves only; build a new one to fit");
    this.sampler.counts = itemPopularity(data.train, data.items.size);
    const opt = this.opts.optimizer ?? sgd();
    if (this.opts.fused !== false && fmFusable(r, opt)) {
      this.report = (await fmTrain(r, data, { ...this.opts, ...this.fmExtras, optimizer: opt })).report;
    } else {
      assert(
        this.fmExtras.logQ !== true,
        () =>
          "fm: logQ is applied by the fused BPR + SGD path; with another loss or optimizer add transforms.logQ() to the loss",
      );
      await super.fit(data);
    }
    this.userVecs = this.userEnc.servingAll();
    this.itemVecs = this.itemEnc.servingAll();
    this.dim = this.userEnc.d + 1;
    this.nUsers = data.users.size;
    this.nItems = data.items.size;
    return this;
  }

  /** E_u = concat(1, Σ v_u) from a request's user features (cold start: attributes only). */
  userVector(features: FmFeatureValues): Float32Array {
    this.ready();
    return this.userEnc.servingVector(features);
  }

  /** Cold start (Recommender contract): E_u from the user's attribute fields, else from her recent items. */
  userVectorFromFeatures(
    attributes: Readonly<Record<string, readonly string[]>>,
    recent: Int32Array,
  ): Float32Array | null {
    this.ready();
    const own: Record<string, readonly string[]> = {};
    for (const f of this.userEnc.attributeFields()) if (attributes[f] !== undefined) own[f] = attributes[f];
    if (Object.keys(own).length > 0) return this.userEnc.servingVector(own);
    return recent.length === 0 ? null : this.itemQueries([[...recent]]);
  }

  /** E_t = concat(W_t + V_tt, Σ v_t) of an item known by its features (a new item). */
  itemVector(features: FmFeatureValues): Float32Array {
    this.ready();
    return this.itemEnc.servingVector(features);
  }

  /** Top-k items for n query vectors (row-major, n × (dim + 1)); `exclude[i]` drops items of row i. */
  recommendVectors(queries: Float32Array, n: number, k: number, exclude?: readonly Int32Array[]): TopK {
    this.ready();
    const d = this.dim;
    const nI = this.nItems;
    const out = new TopK(n, k);
    const scores = new Float32Array(Math.min(BLOCK, n) * nI);
    const heap = new TopKHeap(k);
    for (let b0 = 0; b0 < n; b0 += BLOCK) {
      const m = Math.min(BLOCK, n - b0);
      this.gemm2.nt(queries, b0, m, this.itemVecs, 0, nI, d, scores, 0, nI); // aRow0 is a row index
      for (let i = 0; i < m; i++) {
        const ex = exclude?.[b0 + i] ?? null;
        topKRowInto(scores, i * nI, nI, ex, 0, ex === null ? 0 : ex.length, heap, out, b0 + i);
      }
    }
    return out;
  }

  /** Items a "user" holding item i's feature sum would prefer: query concat(1, Σ v_i). */
  override similarItems(items: Int32Array, k: number): TopK {
    this.ready();
    return this.recommendVectors(
      this.itemQueries([...items].map((i) => [i])),
      items.length,
      k,
      [...items].map((i) => Int32Array.of(i)),
    );
  }

  /** Query concat(1, mean Σ v over the recent items). */
  override recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    this.ready();
    const ex = exclude === undefined ? undefined : [Int32Array.from(new Set(exclude)).sort()];
    return this.recommendVectors(this.itemQueries([[...recent]]), 1, k, ex);
  }

  private itemQueries(groups: number[][]): Float32Array {
    const d = this.dim;
    const q = new Float32Array(groups.length * d);
    groups.forEach((g, r) => {
      q[r * d] = 1;
      for (const i of g) for (let j = 1; j < d; j++) q[r * d + j] += this.itemVecs[i * d + j] / g.length;
    });
    return q;
  }

  private ready(): void {
    assert(this.dim > 0, () => "fm: call fit() or load() first", "RK_ERR_NOT_FITTED");
  }

  override async save(dir: string): Promise<void> {
    this.ready();
    const u = this.userEnc;
    const it = this.itemEnc;
    const d = u.d;
    await writeArtifact(
      dir,
      {
        type: "fm",
        params: this.params(),
        meta: {
          nUsers: this.nUsers,
          nItems: this.nItems,
          dim: this.dim,
          bias: u.bias[0],
          report: this.report,
        },
      },
      {
        "users.npy": { npy: this.userVecs, shape: [this.nUsers, this.dim] },
        "items.npy": { npy: this.itemVecs, shape: [this.nItems, this.dim] },
        "user-V.npy": { npy: u.V, shape: [u.V.length / d, d] },
        "user-w.npy": { npy: u.w, shape: [u.w.length] },
        "item-V.npy": { npy: it.V, shape: [it.V.length / d, d] },
        "item-w.npy": { npy: it.w, shape: [it.w.length] },
        "fields.json": { json: { user: u.layouts, item: it.layouts } },
      },
    );
  }

  /** Restores a saved FM model (serving, cold start included). */
  static override async load(dir: string): Promise<FmRecall> {
    const a = await readArtifact(dir, "fm");
    const p = a.manifest.params as { dim?: number };
    const m = new FmRecall({ dim: p.dim ?? 64 });
    const f32 = async (name: string) => {
      const x = (await a.npy(name)).data;
      assert(x instanceof Float32Array, () => `${dir}/${name}: expected float32`, "RK_ERR_ARTIFACT");
      return x;
    };
    const fields = await a.json<{ user: FmFieldLayout[]; item: FmFieldLayout[] }>("fields.json");
    m.userEnc.restore(
      fields.user,
      await f32("user-V.npy"),
      await f32("user-w.npy"),
      Number(a.manifest.meta.bias),
    );
    m.itemEnc.restore(fields.item, await f32("item-V.npy"), await f32("item-w.npy"), 0);
    m.userVecs = await f32("users.npy");
    m.itemVecs = await f32("items.npy");
    m.nUsers = Number(a.manifest.meta.nUsers);
    m.nItems = Number(a.manifest.meta.nItems);
    m.dim = Number(a.manifest.meta.dim);
    return m;
  }
}
