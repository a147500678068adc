/**
 * MF with the spec's preferred recipe (§5.5.4, SimpleX-style): user and item ID tables, cosine
 * scores, softmax over in-batch positives plus shared global negatives (mixed sampling, 5-31),
 * temperature τ, −log Q of the mixture Q (5-32) and accidental hits removed; sparse lazy Adam.
 * Serving is plain cosine (vectors are exported normalised).
 */
import * as encoders from "../encoders/index.ts";
import * as losses from "../losses/index.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import { adam } from "../train/optimizers/adam.ts";
import type { Recipe } from "../train/recipe.ts";
import { EmbeddingModel, type EmbeddingModelOptions } from "./embedding-model.ts";

export interface MfSoftmaxOptions extends Omit<EmbeddingModelOptions, "kind"> {
  /** Default 64. */
  readonly dim?: number;
  /** τ of s/τ. Default 0.1. */
  readonly temperature?: number;
  /** Shared global negatives per batch (|B'|). 0 = pure in-batch. Default 256. */
  readonly nGlobal?: number;
  /** b of the global negatives' popularity^b; 0 = uniform (default). */
  readonly globalPower?: number;
  /** Include in-batch negatives (default true); false = sampled softmax over global negatives only. */
  readonly inBatch?: boolean;
  /** Subtract log Q (default true). */
  readonly logQ?: boolean;
  /** "cosine" (default) or "dot". */
  readonly score?: "dot" | "cosine";
  /** Adam learning rate. Default 0.005. */
  readonly lr?: number;
  /** L2 on touched rows. Default 0. */
  readonly l2?: number;
  readonly initScale?: number;
}

export function mfSoftmaxRecipe(o: MfSoftmaxOptions = {}): Recipe {
  const dim = o.dim ?? 64;
  const scale = o.initScale ?? 0.1;
  const nGlobal = o.nGlobal ?? 256;
  const global = negatives.popularity({
    power: o.globalPower ?? 0,
    count: nGlobal,
    shared: true,
    smoothing: 1,
  });
  const ts = [losses.transforms.temperature(o.temperature ?? 0.1)];
  if (o.logQ ?? true) ts.push(losses.transforms.logQ());
  ts.push(losses.transforms.accidentalHits());
  return {
    positives: positives.userItem(),
    negatives: (o.inBatch ?? true) ? negatives.mixed({ global, nGlobal }) : global,
    query: encoders.idTable({ dim, scale }),
    item: encoders.idTable({ dim, scale }),
    loss: losses.softmax({ transforms: ts }),
    score: o.score ?? "cosine",
  };
}

export class MfSoftmax extends EmbeddingModel {
  constructor(o: MfSoftmaxOptions = {}) {
    const { dim, temperature, nGlobal, globalPower, inBatch, logQ, score, lr, l2, initScale, ...train } = o;
    super(
      mfSoftmaxRecipe(o),
      {
        epochs: 30,
        batchSize: 256,
        ...train,
        optimizer: o.optimizer ?? adam({ lr: lr ?? 0.005, l2: l2 ?? 0 }),
        kind: "mf-softmax",
      },
      {
        dim: dim ?? 64,
        temperature: temperature ?? 0.1,
        nGlobal: nGlobal ?? 256,
        globalPower: globalPower ?? 0,
        inBatch: inBatch ?? true,
        logQ: logQ ?? true,
        score: score ?? "cosine",
        lr: lr ?? 0.005,
        l2: l2 ?? 0,
        initScale: initScale ?? 0.1,
      },
    );
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "mf-softmax");
  }
}
