/**
 * GCN recall on heterogeneous graphs (spec §5.6.3): users, items and one node type per
 * attribute field (ML-100k: genre, year; age, gender, occupation), trained by the shared GCN
 * recipe (train/gcn-recipe.ts: positives = user → item edges, the framework's softmax or BPR
 * and negatives); vectors for serving come from full-graph inference.
 *  - `MultiBiSage` (Gurukar et al. 2022): a PinSage per relation's bipartite graph, fused by
 *    self-attention over a node's per-relation embeddings (encoders/multibisage.ts);
 *  - `GraphTR` (Liu et al. CIKM'20): neighbours grouped by type, per-type attention with the
 *    target as query, FM pooling across types (encoders/graphtr.ts).
 */
import { type GraphTrOptions, graphTr } from "../encoders/graphtr.ts";
import { type MultiBiSageOptions, multiBiSage } from "../encoders/multibisage.ts";
import { GCN_MODEL_OPTIONS, type GcnLossOptions, gcnLossParams, gcnRecipe } from "../train/gcn-recipe.ts";
import { adam } from "../train/optimizers/adam.ts";
import type { Recipe } from "../train/recipe.ts";
import { EmbeddingModel, type EmbeddingModelOptions } from "./embedding-model.ts";

interface HeteroTrainOptions extends Omit<EmbeddingModelOptions, "kind">, GcnLossOptions {
  /** Adam learning rate. Default 0.005. */
  readonly lr?: number;
  /** L2 on updated rows and dense layers per step. Default 0. */
  readonly l2?: number;
  /** Initial N(0, scale²) of the ID features. Default 0.1. */
  readonly initScale?: number;
}

export interface MultiBiSageModelOptions
  extends HeteroTrainOptions,
    Omit<MultiBiSageOptions, "init" | "scale"> {}

export interface GraphTrModelOptions extends HeteroTrainOptions, Omit<GraphTrOptions, "init" | "scale"> {}

const ENCODER_KEYS = [
  "dim",
  "hidden",
  "layers",
  "neighbors",
  "topT",
  "fanout",
  "walk",
  "itemFields",
  "userFields",
] as const;

/** Splits model options into encoder options (defaults resolved), training options and manifest params. */
function split(
  o: HeteroTrainOptions & Record<string, unknown>,
  kind: string,
  defaults: Record<string, unknown>,
) {
  const enc: Record<string, unknown> = { ...defaults };
  const train: Record<string, unknown> = {};
  const loss = new Set<string>(GCN_MODEL_OPTIONS);
  for (const [k, v] of Object.entries(o)) {
    if ((ENCODER_KEYS as readonly string[]).includes(k)) {
      if (v !== undefined) enc[k] = v;
    } else if (!loss.has(k)) train[k] = v;
  }
  const trainOptions = {
    epochs: 10,
    batchSize: (o.loss ?? "softmax") === "bpr" ? 2048 : 4096,
    ...train,
    optimizer: o.optimizer ?? adam({ lr: o.lr ?? 0.005, l2: o.l2 ?? 0 }),
    kind,
  };
  const given = {
    ...enc,
    ...gcnLossParams(o),
    lr: o.lr ?? 0.005,
    l2: o.l2 ?? 0,
    initScale: o.initScale ?? 0.1,
  };
  return { enc: { ...enc, scale: o.initScale ?? 0.1 }, trainOptions, given };
}

const MULTIBISAGE_DEFAULTS = { dim: 64, layers: 2, neighbors: "importance", topT: 10, fanout: 10 };
const GRAPHTR_DEFAULTS = { dim: 64, layers: 2, fanout: 10 };

export function multiBiSageRecipe(o: MultiBiSageModelOptions = {}): Recipe {
  const { enc } = split(
    o as MultiBiSageModelOptions & Record<string, unknown>,
    "multibisage",
    MULTIBISAGE_DEFAULTS,
  );
  return gcnRecipe(multiBiSage(enc as MultiBiSageOptions), o);
}

export function graphTrRecipe(o: GraphTrModelOptions = {}): Recipe {
  const { enc } = split(o as GraphTrModelOptions & Record<string, unknown>, "graphtr", GRAPHTR_DEFAULTS);
  return gcnRecipe(graphTr(enc as GraphTrOptions), o);
}

/**
 * MultiBiSage-style recall: one PinSage per relation's bipartite graph, self-attention fusion.
 * @example const m = await new MultiBiSage({ itemFields: ["genre"], userFields: ["age", "gender", "occupation"] }).fit(data);
 */
export class MultiBiSage extends EmbeddingModel {
  constructor(o: MultiBiSageModelOptions = {}) {
    const s = split(
      o as MultiBiSageModelOptions & Record<string, unknown>,
      "multibisage",
      MULTIBISAGE_DEFAULTS,
    );
    super(multiBiSageRecipe(o), s.trainOptions, s.given);
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "multibisage");
  }
}

/**
 * GraphTR-style recall: per-type attention with the target as query, FM pooling across types.
 * @example const m = await new GraphTR({ fanout: 10 }).fit(data);
 */
export class GraphTR extends EmbeddingModel {
  constructor(o: GraphTrModelOptions = {}) {
    const s = split(o as GraphTrModelOptions & Record<string, unknown>, "graphtr", GRAPHTR_DEFAULTS);
    super(graphTrRecipe(o), s.trainOptions, s.given);
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "graphtr");
  }
}

/** Option names the registry accepts for each model (besides the trainer's). */
export const MULTIBISAGE_OPTIONS = [...ENCODER_KEYS];
export const GRAPHTR_OPTIONS = ["dim", "layers", "fanout", "itemFields", "userFields"];
