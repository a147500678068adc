/**
 * PinSage (Ying et al. KDD'18; spec §5.6.2) and GraphSAGE (Hamilton et al. 2017, eq. 5-33) on the
 * user–item graph: ID features, K convolution layers of Code 5-7 (encoders/graph-conv.ts) over
 * importance neighbours from random walks with restart (PinSage) or uniformly sampled neighbours
 * (GraphSAGE), trained on layer-wise sampled subgraphs per batch (Code 5-8) with the framework's
 * negatives and loss (train/gcn-recipe.ts); vectors for serving come from full-graph inference.
 * Inductive use (`inductiveEmbeddings`): items withheld from training get vectors from their
 * features (attribute-value nodes, `itemAttributes`) and their edges, with the trained weights.
 */
import {
  graphSage,
  type PinSageCore,
  type PinSageOptions,
  type PinSageSide,
  pinSage,
} from "../encoders/pinsage.ts";
import { assert } from "../errors.ts";
import { Rng } from "../math/rng.ts";
import * as negatives from "../negatives/index.ts";
import type { Embeddings } from "../recommender.ts";
import { type GcnLossOptions, gcnLossParams, gcnRecipe } from "../train/gcn-recipe.ts";
import { visitRankBand } from "../train/graph-negatives.ts";
import { adam } from "../train/optimizers/adam.ts";
import type { Recipe } from "../train/recipe.ts";
import { SubgraphPlanner } from "../train/subgraph-sampler.ts";
import type { Dataset, Interactions } from "../types.ts";
import { EmbeddingModel, type EmbeddingModelOptions } from "./embedding-model.ts";

export interface PinSageModelOptions
  extends Omit<EmbeddingModelOptions, "kind">,
    GcnLossOptions,
    Omit<PinSageOptions, "init" | "scale" | "neighbors"> {
  /** Adam learning rate. Default 0.005. */
  readonly lr?: number;
  /** L2 on updated rows and dense layers per step. Default 0. */
  readonly l2?: number;
  /** Initial N(0, scale²) of the ID features. Default 0.1. */
  readonly initScale?: number;
  /**
   * Producer/consumer: worker threads sampling the next batches' subgraphs while the current one
   * trains (train/subgraph-sampler.ts); 0 samples inline. Same result either way. Default 1.
   */
  readonly samplerWorkers?: number;
  /** Batches whose subgraphs are sampled ahead. Default 2. */
  readonly samplerDepth?: number;
  /**
   * One subgraph and one forward/backward per step for the users and items together (nodes in
   * both computation graphs computed once) instead of one per side. Default true.
   */
  readonly samplerJoint?: boolean;
  /**
   * PinSage only: hard negatives from item ranks [from, to) of the query user's visit ranking
   * (default [min(50, items/32), min(200, items/8)), train/graph-negatives.ts), mixed easy:hard =
   * ratio:1 (default 100) with `perRow` uniform negatives per positive (default 64; per-row
   * negatives replace the shared ones). The walks then take ≥ 10·to steps per node. An empty band
   * (`to` ≤ `from`) gives the same per-row uniform negatives without hard ones. Default off.
   */
  readonly hardNegatives?: {
    readonly from?: number;
    readonly to?: number;
    readonly ratio?: number;
    readonly perRow?: number;
  };
}

function encoderOptions(o: PinSageModelOptions): PinSageOptions {
  return {
    dim: o.dim ?? 64,
    ...(o.hidden === undefined ? {} : { hidden: o.hidden }),
    layers: o.layers ?? 2,
    topT: o.topT ?? 10,
    fanout: o.fanout ?? 10,
    ...(o.walk === undefined ? {} : { walk: o.walk }),
    ...(o.itemAttributes === undefined ? {} : { itemAttributes: o.itemAttributes }),
    ...(o.idDropout === undefined ? {} : { idDropout: o.idDropout }),
    scale: o.initScale ?? 0.1,
  };
}

/** The recipe with its batches planned ahead and their subgraphs sampled by the planner's producer. */
function planned(pair: { readonly core: PinSageCore }, r: Recipe, o: PinSageModelOptions): Recipe {
  const planner = new SubgraphPlanner(() => pair.core.samplingPlan(), {
    workers: o.samplerWorkers ?? 1,
    depth: o.samplerDepth ?? 2,
    joint: o.samplerJoint ?? true,
  });
  pair.core.useSubgraphSource(planner);
  return { ...r, positives: planner.positives(r.positives), negatives: planner.negatives(r.negatives) };
}

export function pinSageRecipe(o: PinSageModelOptions = {}): Recipe {
  const h = o.hardNegatives;
  if (h === undefined) {
    const pair = pinSage(encoderOptions(o));
    return planned(pair, gcnRecipe(pair, o), o);
  }
  assert(
    (o.itemAttributes ?? []).length === 0,
    () => "pinsage: hardNegatives (visit-rank band over items) cannot be combined with itemAttributes",
  );
  const eo = encoderOptions(o);
  // the walks must reach past the band: keep 4·to ranks (users and items interleave) and walk
  // at least 10·to steps from every node
  const to = h.to ?? 200;
  const walk = {
    ...eo.walk,
    keep: Math.max(to, eo.walk?.keep ?? 0) * 4,
    steps: Math.max(eo.walk?.steps ?? 200, 10 * to),
  };
  const pair = pinSage({ ...eo, walk });
  const hard = negatives.hard({
    easy: negatives.uniform({ count: h.perRow ?? ((o.loss ?? "softmax") === "bpr" ? 1 : 64) }),
    source: visitRankBand(pair.core, h),
    ratio: h.ratio ?? 100,
  });
  return planned(pair, gcnRecipe(pair, o, hard), o);
}

export function graphSageRecipe(o: PinSageModelOptions = {}): Recipe {
  const pair = graphSage(encoderOptions(o));
  return planned(pair, gcnRecipe(pair, o), o);
}

function trainOptions(o: PinSageModelOptions, kind: string) {
  const {
    hardNegatives,
    dim,
    hidden,
    layers,
    topT,
    fanout,
    walk,
    itemAttributes,
    idDropout,
    loss,
    temperature,
    nGlobal,
    inBatch,
    logQ,
    score,
    lr,
    l2,
    initScale,
    samplerWorkers,
    samplerDepth,
    samplerJoint,
    ...train
  } = o;
  return {
    epochs: 10,
    batchSize: (loss ?? "softmax") === "bpr" ? 2048 : 4096,
    ...train,
    optimizer: o.optimizer ?? adam({ lr: lr ?? 0.005, l2: l2 ?? 0 }),
    kind,
  };
}

function given(o: PinSageModelOptions, sage: boolean): Record<string, unknown> {
  return {
    dim: o.dim ?? 64,
    hidden: o.hidden ?? o.dim ?? 64,
    layers: o.layers ?? 2,
    ...(o.itemAttributes ? { itemAttributes: o.itemAttributes } : {}),
    ...(o.idDropout ? { idDropout: o.idDropout } : {}),
    ...(sage
      ? { fanout: o.fanout ?? 10 }
      : {
          topT: o.topT ?? 10,
          walk: o.walk ?? {},
          ...(o.hardNegatives ? { hardNegatives: o.hardNegatives } : {}),
        }),
    ...gcnLossParams(o),
    lr: o.lr ?? 0.005,
    l2: o.l2 ?? 0,
    initScale: o.initScale ?? 0.1,
  };
}

/**
 * Inductive embeddings of a fitted model: full-graph inference with the trained weights over
 * `data.train` + `extra` (e.g. the interactions of items withheld from training) with attribute
 * nodes for every item that has an edge; nodes without a training edge get a zero ID feature.
 */
function inductive(
  kind: string,
  recipe: unknown,
  data: Dataset,
  extra: Interactions,
  seed: number,
): Embeddings {
  const item = (recipe as { item?: PinSageSide } | null)?.item;
  const core = item?.core as PinSageCore | undefined;
  assert(
    core?.graph != null,
    () => `${kind}.inductiveEmbeddings: needs a model fitted in this process (a loaded model serves only)`,
  );
  const g = core.inferenceGraph(data, extra);
  const H = core.inferGraph(g, new Rng(seed));
  const d = core.dim;
  return {
    dim: d,
    users: H.slice(0, g.nUsers * d),
    items: H.slice(g.nUsers * d, (g.nUsers + g.nItems) * d),
  };
}

export class PinSage extends EmbeddingModel {
  constructor(o: PinSageModelOptions = {}) {
    super(pinSageRecipe(o), trainOptions(o, "pinsage"), given(o, false));
  }

  /**
   * Vectors of all users and items over the training graph plus `extra` interactions, by the
   * trained weights (inductive: items withheld from training get vectors from their attribute
   * nodes and `extra` edges). `data` is the dataset the model was fitted on. Allocates.
   * @example const v = model.inductiveEmbeddings(trainSet, heldOutItemInteractions);
   */
  inductiveEmbeddings(data: Dataset, extra: Interactions): Embeddings {
    return inductive(this.kind, this.recipe, data, extra, (this.opts.seed as number | undefined) ?? 1);
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "pinsage");
  }
}

export class GraphSage extends EmbeddingModel {
  constructor(o: PinSageModelOptions = {}) {
    super(graphSageRecipe(o), trainOptions(o, "graphsage"), given(o, true));
  }

  /** As `PinSage.inductiveEmbeddings` (all neighbours, no randomness). */
  inductiveEmbeddings(data: Dataset, extra: Interactions): Embeddings {
    return inductive(this.kind, this.recipe, data, extra, 1);
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "graphsage");
  }
}
