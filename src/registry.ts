/**
 * Model registry: the names the CLI, config files and artifacts use ("itemcf" → ItemCF). Each entry
 * creates a model from plain options and loads a saved artifact of its kind.
 */

import { datasetToMessage } from "./data/transfer.ts";
import { RecallkitError } from "./errors.ts";
import { readArtifact } from "./io/artifact.ts";
import { AirbnbEmbedding, type AirbnbOptions } from "./models/airbnb.ts";
import { AirbnbTypes, type AirbnbTypesOptions } from "./models/airbnb-types.ts";
import { Eges, type EgesOptions } from "./models/eges.ts";
import { FmRecall, type FmRecallOptions } from "./models/fm.ts";
import {
  GRAPHTR_OPTIONS,
  GraphTR,
  type GraphTrModelOptions,
  MULTIBISAGE_OPTIONS,
  MultiBiSage,
  type MultiBiSageModelOptions,
} from "./models/hetero-gcn.ts";
import { Item2Vec, type Item2VecOptions } from "./models/item2vec.ts";
import { LightGcn, type LightGcnModelOptions } from "./models/lightgcn.ts";
import { MfBpr, type MfBprOptions } from "./models/mf-bpr.ts";
import { MfSoftmax, type MfSoftmaxOptions } from "./models/mf-softmax.ts";
import { GraphSage, PinSage, type PinSageModelOptions } from "./models/pinsage.ts";
import { TWO_TOWER_MODEL_OPTIONS, TwoTower, type TwoTowerOptions } from "./models/two-tower.ts";
import { ALS, type AlsOptions } from "./recall/als.ts";
import { GraphFilter, type GraphFilterOptions } from "./recall/graph-filter.ts";
import { InvertedIndex, type InvertedIndexOptions } from "./recall/inverted-index.ts";
import { ItemCF, type ItemCFOptions } from "./recall/item-cf.ts";
import { Popular, type PopularOptions } from "./recall/popular.ts";
import {
  checkPrior,
  POPULARITY_PRIOR_TYPE,
  PopularityPrior,
  type PriorSelection,
  type RemoteSelection,
} from "./recall/popularity-prior.ts";
import { UserCF, type UserCFOptions } from "./recall/user-cf.ts";
import type { Recommender } from "./recommender.ts";
import { GCN_MODEL_OPTIONS } from "./train/gcn-recipe.ts";
import type { Dataset } from "./types.ts";
import { startWorker, workerUrl } from "./workers.ts";

export interface ModelEntry {
  readonly summary: string;
  /** Option names the model accepts (unknown ones are rejected with a clear error). */
  readonly options: readonly string[];
  create(options: Record<string, unknown>): Recommender;
  load(dir: string): Promise<Recommender>;
}

const registry = new Map<string, ModelEntry>();

export function registerModel(name: string, entry: ModelEntry): void {
  registry.set(name, entry);
}

export function modelNames(): string[] {
  return [...registry.keys()];
}

export function modelEntry(name: string): ModelEntry {
  const e = registry.get(name);
  if (e === undefined)
    throw new RecallkitError(
      "RK_ERR_INVALID_ARGUMENT",
      `unknown model "${name}"; known models: ${modelNames().join(", ")}`,
    );
  return e;
}

/** Creates a model by name, rejecting options it does not know. */
export function createModel(name: string, options: Record<string, unknown> = {}): Recommender {
  const e = modelEntry(name);
  // `popularityPrior` (β) fits any embedding model: it wraps the model, not one of its options
  const { popularityPrior, ...own } = options;
  for (const k of Object.keys(own)) {
    if (!e.options.includes(k)) {
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `model "${name}" has no option "${k}"; its options are: ${[...e.options, "popularityPrior"].join(", ")}`,
      );
    }
  }
  const model = e.create(own);
  if (popularityPrior === undefined) return model;
  return withPopularityPrior(model, popularityPrior, { model: name, options: own }, () => e.create(own));
}

/**
 * `model` served with a popularity prior β (recall/popularity-prior.ts). "auto" chooses β on a
 * validation fit of `make()`, in a worker thread that rebuilds `spec` by name when it can.
 */
export function withPopularityPrior(
  model: Recommender,
  beta: unknown,
  spec: ModelSpec,
  make: () => Recommender,
): PopularityPrior {
  if (beta !== "auto") return new PopularityPrior(model, checkPrior(beta, `model "${spec.model}"`));
  return new PopularityPrior(model, "auto", make, (data) => trySelectInWorker(spec, data));
}

/** A registry model: its name and plain (structured-cloneable) options. */
export interface ModelSpec {
  readonly model: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * `selectPopularityPrior` for a registry model in a worker thread (prior-selection.worker.ts
 * rebuilds it by name), so the calling thread can fit the final model meanwhile. `stop` ends the
 * worker early (when the caller's own fit failed).
 */
export function selectPopularityPriorInWorker(
  spec: ModelSpec,
  data: Dataset,
  opts: { grid?: readonly number[]; ratio?: number; seed?: number; k?: number } = {},
): RemoteSelection {
  const w = startWorker(workerUrl("./prior-selection.worker", import.meta.url), {
    spec,
    data: datasetToMessage(data),
    opts,
  });
  const result = new Promise<PriorSelection>((resolve, reject) => {
    w.once("message", (m: { selection?: PriorSelection; error?: string }) => {
      if (m.selection !== undefined) resolve(m.selection);
      else reject(new RecallkitError("RK_ERR_INVALID_ARGUMENT", m.error ?? "prior selection worker failed"));
    });
    w.once("error", reject);
    w.once("exit", (code) => {
      if (code !== 0) reject(new Error(`prior selection worker exited with code ${code}`));
    });
  }).finally(() => w.terminate());
  // handled here too: a failure while the caller is still busy with its own fit must not be an
  // unhandled rejection; the caller sees it when it awaits `result`
  result.catch(() => undefined);
  return {
    result,
    stop: async () => {
      await w.terminate();
    },
  };
}

/** The worker selection, or null when the options cannot travel to a worker (a function, say). */
function trySelectInWorker(spec: ModelSpec, data: Dataset): RemoteSelection | null {
  try {
    return selectPopularityPriorInWorker(spec, data);
  } catch {
    return null;
  }
}

/** Loads any saved model, dispatching on its manifest's type. */
export async function loadModel(dir: string): Promise<Recommender> {
  const a = await readArtifact(dir);
  if (a.manifest.type === POPULARITY_PRIOR_TYPE) return PopularityPrior.load(dir, loadModel);
  return modelEntry(a.manifest.type).load(dir);
}

registerModel("popular", {
  summary: "global most-popular list (spec §5.1.1 热门爆款), optional time decay",
  options: ["halfLifeSec", "distinctUsers"],
  create: (o) => new Popular(o as PopularOptions),
  load: (d) => Popular.load(d),
});

registerModel("inverted-index", {
  summary: "attribute inverted index: per-value lists sorted by a posterior metric (spec §5.1.1)",
  options: ["fields", "sortBy", "ctrPrior", "listSize", "recencyHalfLife", "topValues"],
  create: (o) => new InvertedIndex(o as InvertedIndexOptions),
  load: (d) => InvertedIndex.load(d),
});

/** Options shared by ItemCF and UserCF (src/recall/item-cf.ts NeighborhoodOptions). */
const NEIGHBORHOOD = [
  "similarity",
  "values",
  "duplicates",
  "weightNorms",
  "alpha",
  "beta",
  "shrink",
  "neighbors",
  "pairHalfLifeSec",
  "rowNormalize",
  "recencyHalfLifeSec",
  "workers",
];

registerModel("itemcf", {
  summary: "item-based CF, S = AᵀA built sparsely (spec §5.1.2); presets cosine, gowalla",
  options: [...NEIGHBORHOOD, "preset", "userWeight", "userWeightPower"],
  create: (o) => new ItemCF(o as ItemCFOptions),
  load: (d) => ItemCF.load(d),
});

registerModel("usercf", {
  summary: "user-based CF over user–user similarity (spec §5.1.2)",
  options: [...NEIGHBORHOOD, "itemWeight", "itemWeightPower"],
  create: (o) => new UserCF(o as UserCFOptions),
  load: (d) => UserCF.load(d),
});

registerModel("als", {
  summary: "implicit-feedback matrix factorisation, conjugate-gradient ALS with fold-in (spec §5.1.3)",
  options: [
    "factors",
    "regularization",
    "regularizationExponent",
    "alpha",
    "confidence",
    "values",
    "scaling",
    "epsilon",
    "iterations",
    "solver",
    "cgSteps",
    "initScale",
    "seed",
    "workers",
    "kernel",
  ],
  create: (o) => new ALS(o as AlsOptions),
  load: (d) => ALS.load(d),
});

/** Options every model trained by the generic loop (src/train) accepts. */
const TRAIN = ["epochs", "batchSize", "seed", "workers", "patience", "lrDecay", "lrMilestones", "lrGamma"];

registerModel("mf-bpr", {
  summary: "matrix factorisation, BPR loss (spec 5-14), uniform negatives, Hogwild SGD",
  options: ["dim", "negatives", "lr", "l2", "initScale", ...TRAIN],
  create: (o) => new MfBpr(o as MfBprOptions),
  load: (d) => MfBpr.load(d),
});

registerModel("mf-softmax", {
  summary:
    "MF, softmax over in-batch + global negatives, cosine, τ, −log Q (spec §5.2, §5.5.4); loss=ccl: SimpleX cosine contrastive loss; start=spectral: graph low-pass start",
  options: [
    "dim",
    "temperature",
    "nGlobal",
    "globalPower",
    "inBatch",
    "logQ",
    "score",
    "lr",
    "l2",
    "initScale",
    "start",
    "loss",
    "margin",
    "negativeWeight",
    ...TRAIN,
  ],
  create: (o) => new MfSoftmax(o as MfSoftmaxOptions),
  load: (d) => MfSoftmax.load(d),
});

registerModel("two-tower", {
  summary:
    "two-tower DNN retrieval: user tower (id, attributes, history mean/attention) · item tower, in-batch/mixed/global negatives, softmax with τ and −log Q or CCL, optional spectral start (spec §5.5); scenario u2i/i2i/u2u (u2u: similar users → their items)",
  options: [
    ...TWO_TOWER_MODEL_OPTIONS,
    "epochs",
    "batchSize",
    "seed",
    "patience",
    "lrDecay",
    "lrMilestones",
    "lrGamma",
  ],
  create: (o) => new TwoTower(o as TwoTowerOptions),
  load: (d) => TwoTower.load(d),
});

registerModel("fm", {
  summary:
    "FM recall (spec §5.4): user/item fields, BPR, hot-item down-sampling, F^b negatives, augmented vectors",
  options: [
    "userFields",
    "itemFields",
    "dim",
    "subsample",
    "power",
    "negatives",
    "lr",
    "l2",
    "initScale",
    "logQ",
    "lrSchedule",
    "idDropout",
    "fused",
    ...TRAIN,
  ],
  create: (o) => new FmRecall(o as FmRecallOptions),
  load: (d) => FmRecall.load(d),
});

/** Options of the word2vec-family trainer (src/train/sgns*.ts). */
const SGNS = ["dim", "window", "negatives", "power", "alpha", "minAlpha", "epochs", "workers", "seed"];

registerModel("item2vec", {
  summary: "Item2Vec: skip-gram with negative sampling over sessions, Hogwild (spec §5.3.1)",
  options: [...SGNS, "sample", "subsampleFormula", "minCount", "serve", "kernel", "style"],
  create: (o) => new Item2Vec(o as Item2VecOptions),
  load: (d) => Item2Vec.load(d),
});

registerModel("airbnb", {
  summary:
    "Airbnb listing embeddings: booked item as global context, same-market negatives (spec §5.3.2, eq. 5-17)",
  options: [
    ...SGNS,
    "sample",
    "subsampleFormula",
    "minCount",
    "serve",
    "conversionEvents",
    "market",
    "marketNegatives",
    "kernel",
    "style",
  ],
  create: (o) => new AirbnbEmbedding(o as AirbnbOptions),
  load: (d) => AirbnbEmbedding.load(d),
});

registerModel("airbnb-types", {
  summary:
    "Airbnb user-type and listing-type embeddings in one space, rejections as hard negatives (eq. 5-18)",
  options: [
    ...SGNS,
    "userFields",
    "itemFields",
    "eraField",
    "eraYears",
    "popularityBands",
    "positiveMin",
    "rejectMax",
    "hardNegatives",
    "prior",
    "userTokens",
    "minTypeUsers",
    "outputs",
    "kernel",
  ],
  create: (o) => new AirbnbTypes(o as AirbnbTypesOptions),
  load: (d) => AirbnbTypes.load(d),
});

registerModel("eges", {
  summary: "EGES: weighted item-graph walks + side-information embeddings with attention (spec §5.3.3)",
  options: [...SGNS, "fields", "combine", "walksPerNode", "walkLength"],
  create: (o) => new Eges(o as EgesOptions),
  load: (d) => Eges.load(d),
});

/** Options every GCN model takes: loss, optimiser, init (src/train/gcn-recipe.ts) and training. */
const GCN = [...GCN_MODEL_OPTIONS, ...TRAIN];

registerModel("lightgcn", {
  summary: "LightGCN: ID embeddings propagated over the normalised user–item graph, layer mean (spec §5.6)",
  options: ["dim", "layers", ...GCN],
  create: (o) => new LightGcn(o as LightGcnModelOptions),
  load: (d) => LightGcn.load(d),
});

registerModel("pinsage", {
  summary:
    "PinSage: random-walk importance neighbours, Code 5-7 convolution, sampled subgraphs (spec §5.6.2)",
  options: [
    "dim",
    "hidden",
    "layers",
    "topT",
    "walk",
    "hardNegatives",
    "itemAttributes",
    "idDropout",
    "samplerWorkers",
    "samplerDepth",
    "samplerJoint",
    ...GCN,
  ],
  create: (o) => new PinSage(o as PinSageModelOptions),
  load: (d) => PinSage.load(d),
});

registerModel("graphsage", {
  summary: "GraphSAGE: mean aggregation over uniformly sampled neighbours, same convolution (eq. 5-33)",
  options: [
    "dim",
    "hidden",
    "layers",
    "fanout",
    "itemAttributes",
    "idDropout",
    "samplerWorkers",
    "samplerDepth",
    "samplerJoint",
    ...GCN,
  ],
  create: (o) => new GraphSage(o as PinSageModelOptions),
  load: (d) => GraphSage.load(d),
});

registerModel("multibisage", {
  summary:
    "MultiBiSage: a PinSage per relation's bipartite graph (user–item, item–genre, user–age, …), self-attention fusion (spec §5.6.3)",
  options: [...MULTIBISAGE_OPTIONS, ...GCN],
  create: (o) => new MultiBiSage(o as MultiBiSageModelOptions),
  load: (d) => MultiBiSage.load(d),
});

registerModel("graphtr", {
  summary:
    "GraphTR: heterogeneous neighbours grouped by type, per-type attention (target as query), FM pooling (spec §5.6.3)",
  options: [...GRAPHTR_OPTIONS, ...GCN],
  create: (o) => new GraphTR(o as GraphTrModelOptions),
  load: (d) => GraphTR.load(d),
});

registerModel("graph-filter", {
  summary:
    "GF-CF: training-free graph filter, Â² on the user's items + ideal low-pass on R̃ᵀR̃'s top eigenvectors (spec §5.6)",
  options: ["lowPassDim", "lowPassWeight", "iterations", "oversample", "seed"],
  create: (o) => new GraphFilter(o as GraphFilterOptions),
  load: (d) => GraphFilter.load(d),
});
