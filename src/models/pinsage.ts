/**
 * PinSage (Ying et al. KDD'18; spec §5.6.2) and GraphSAGE (Hamilton et al. 2017, eq. 5-33) on the
 * user–item graph: ID features, K convolution layers of Code 5-7 (encoders/graph-conv.ts) over
 * importance neighbours from random walks with restart (PinSage) or uniformly sampled neighbours
 * (GraphSAGE), trained on layer-wise sampled subgraphs per batch (Code 5-8) with the framework's
 * negatives and loss (train/gcn-recipe.ts); vectors for serving come from full-graph inference.
 */
import { graphSage, type PinSageOptions, pinSage } from "../encoders/pinsage.ts";
import * as negatives from "../negatives/index.ts";
import { type GcnLossOptions, gcnLossParams, gcnRecipe } from "../train/gcn-recipe.ts";
import { visitRankBand } from "../train/graph-negatives.ts";
import { adam } from "../train/optimizers/adam.ts";
import type { Recipe } from "../train/recipe.ts";
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
   * PinSage only: hard negatives from item ranks [from, to) of the query user's visit ranking,
   * mixed easy:hard = ratio:1 with `perRow` uniform negatives per positive (per-row negatives
   * replace the shared ones). Default off.
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
    scale: o.initScale ?? 0.1,
  };
}

export function pinSageRecipe(o: PinSageModelOptions = {}): Recipe {
  const h = o.hardNegatives;
  if (h === undefined) return gcnRecipe(pinSage(encoderOptions(o)), o);
  const eo = encoderOptions(o);
  const pair = pinSage({ ...eo, walk: { ...eo.walk, keep: Math.max(h.to ?? 200, eo.walk?.keep ?? 0) * 4 } });
  const hard = negatives.hard({
    easy: negatives.uniform({ count: h.perRow ?? ((o.loss ?? "softmax") === "bpr" ? 1 : 64) }),
    source: visitRankBand(pair.core, h),
    ratio: h.ratio ?? 100,
  });
  return gcnRecipe(pair, o, hard);
}

export function graphSageRecipe(o: PinSageModelOptions = {}): Recipe {
  return gcnRecipe(graphSage(encoderOptions(o)), o);
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
    loss,
    temperature,
    nGlobal,
    inBatch,
    logQ,
    score,
    lr,
    l2,
    initScale,
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

export class PinSage extends EmbeddingModel {
  constructor(o: PinSageModelOptions = {}) {
    super(pinSageRecipe(o), trainOptions(o, "pinsage"), given(o, false));
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "pinsage");
  }
}

export class GraphSage extends EmbeddingModel {
  constructor(o: PinSageModelOptions = {}) {
    super(graphSageRecipe(o), trainOptions(o, "graphsage"), given(o, true));
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "graphsage");
  }
}
