/**
 * MF-BPR (Rendle et al. 2009; spec 5-14): user and item ID tables, one uniform negative per
 * (user, clicked item), BPR loss, dot score, per-sample SGD. The parts qualify for the fused
 * per-triple kernel (train/fused-pairwise.ts), which runs Hogwild across `workers` threads on the
 * WASM SIMD BPR kernel (train/bpr-wasm.wat; RECALLKIT_BPR_KERNEL=js for the JS one), or in-process
 * in JS with `workers: 0` (exact, reproducible).
 */
import * as encoders from "../encoders/index.ts";
import * as losses from "../losses/index.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import { sgd } from "../train/optimizers/sgd.ts";
import type { Recipe } from "../train/recipe.ts";
import { defaultWorkers } from "../workers.ts";
import { EmbeddingModel, type EmbeddingModelOptions } from "./embedding-model.ts";

export interface MfBprOptions extends Omit<EmbeddingModelOptions, "kind"> {
  /** Default 64. */
  readonly dim?: number;
  /** Uniform negatives per positive. Default 1. */
  readonly negatives?: number;
  /** SGD learning rate. Default 0.05. */
  readonly lr?: number;
  /** L2 on touched rows, per triple. Default 0.005 (Gowalla: 1e-4 → R@20 0.129, 0.005 → 0.137 at 100 epochs). */
  readonly l2?: number;
  /** Initial N(0, scale²). Default 0.1. */
  readonly initScale?: number;
}

/** The default parts list; any part can be replaced by spreading over it. */
export function mfBprRecipe(o: MfBprOptions = {}): Recipe {
  const dim = o.dim ?? 64;
  const scale = o.initScale ?? 0.1;
  return {
    positives: positives.userItem(),
    negatives: negatives.uniform({ count: o.negatives ?? 1 }),
    query: encoders.idTable({ dim, scale }),
    item: encoders.idTable({ dim, scale }),
    loss: losses.bpr({ reduction: "sum" }),
    score: "dot",
  };
}

export class MfBpr extends EmbeddingModel {
  constructor(o: MfBprOptions = {}) {
    super(
      mfBprRecipe(o),
      {
        epochs: 100,
        workers: defaultWorkers(),
        ...o,
        optimizer: o.optimizer ?? sgd({ lr: o.lr ?? 0.05, l2: o.l2 ?? 0.005 }),
        kind: "mf-bpr",
      },
      {
        dim: o.dim ?? 64,
        negatives: o.negatives ?? 1,
        lr: o.lr ?? 0.05,
        l2: o.l2 ?? 0.005,
        initScale: o.initScale ?? 0.1,
      },
    );
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "mf-bpr");
  }
}
