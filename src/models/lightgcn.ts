/**
 * LightGCN (He et al. SIGIR'20), the propagation-only GCN of spec §5.6: ID embeddings of users and
 * items propagated K times over the symmetric-normalised bipartite graph and averaged over layers
 * (encoders/lightgcn.ts). Positives are the graph's user → item edges; negatives and loss are the
 * framework's (train/gcn-recipe.ts). Default: softmax over 1024 shared uniform negatives with
 * cosine and τ = 0.1, batches of 8192 (one propagation forward and one backward per batch);
 * `loss: "bpr"` is the paper's BPR with one uniform negative per positive and dot scores.
 */
import { lightGcn } from "../encoders/lightgcn.ts";
import { type GcnLossOptions, gcnLossParams, gcnRecipe } from "../train/gcn-recipe.ts";
import { adam } from "../train/optimizers/adam.ts";
import type { Recipe } from "../train/recipe.ts";
import { EmbeddingModel, type EmbeddingModelOptions } from "./embedding-model.ts";

export interface LightGcnModelOptions extends Omit<EmbeddingModelOptions, "kind">, GcnLossOptions {
  /** Default 64. */
  readonly dim?: number;
  /** Propagation layers K. Default 3. */
  readonly layers?: number;
  /** Adam learning rate. Default 0.01. */
  readonly lr?: number;
  /** L2 on updated rows per step. Default 0. */
  readonly l2?: number;
  /** Initial N(0, scale²). Default 0.1. */
  readonly initScale?: number;
}

export function lightGcnRecipe(o: LightGcnModelOptions = {}): Recipe {
  return gcnRecipe(lightGcn({ dim: o.dim ?? 64, layers: o.layers ?? 3, scale: o.initScale ?? 0.1 }), o);
}

export class LightGcn extends EmbeddingModel {
  constructor(o: LightGcnModelOptions = {}) {
    const { dim, layers, loss, temperature, nGlobal, inBatch, logQ, score, lr, l2, initScale, ...train } = o;
    super(
      lightGcnRecipe(o),
      {
        epochs: 20,
        batchSize: (loss ?? "softmax") === "bpr" ? 2048 : 8192,
        ...train,
        optimizer: o.optimizer ?? adam({ lr: lr ?? 0.01, l2: l2 ?? 0 }),
        kind: "lightgcn",
      },
      {
        dim: dim ?? 64,
        layers: layers ?? 3,
        ...gcnLossParams(o),
        lr: lr ?? 0.01,
        l2: l2 ?? 0,
        initScale: initScale ?? 0.1,
      },
    );
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "lightgcn");
  }
}
