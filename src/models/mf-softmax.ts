/**
 * MF with the spec's negative-sampling recipe (§5.2, §5.5.4): user and item ID tables, cosine
 * scores, many negatives shared across a batch, sparse lazy Adam. Two losses:
 *
 * - `loss: "softmax"` (default): softmax over in-batch positives plus shared global negatives
 *   (mixed sampling, 5-31), temperature τ, −log Q of the mixture Q (5-32), accidental hits removed.
 * - `loss: "ccl"`: cosine contrastive loss (SimpleX, Mao et al. CIKM'21),
 *   (1 − cos(u,i)) + w · mean_j max(0, cos(u,j) − m) over `nGlobal` uniform negatives shared by
 *   the batch; cheaper per epoch (no exp, sparse gradients), see BENCHMARKS.md for how it compares.
 *
 * Unset options take the chosen loss's defaults (`mfSoftmaxDefaults`). Serving is plain cosine
 * (vectors are exported normalised).
 */
import * as encoders from "../encoders/index.ts";
import { assert } from "../errors.ts";
import * as losses from "../losses/index.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import { adam } from "../train/optimizers/adam.ts";
import type { Recipe } from "../train/recipe.ts";
import { EmbeddingModel, type EmbeddingModelOptions } from "./embedding-model.ts";

export interface MfSoftmaxOptions extends Omit<EmbeddingModelOptions, "kind"> {
  /** "softmax" (default) or "ccl"; picks the defaults of every option below. */
  readonly loss?: "softmax" | "ccl";
  /** Default 64. */
  readonly dim?: number;
  /** Softmax: τ of s/τ. Default 0.1. */
  readonly temperature?: number;
  /** CCL: margin m. Default 0.9 (SimpleX's Gowalla setting). */
  readonly margin?: number;
  /** CCL: negative weight w. Default 150. */
  readonly negativeWeight?: number;
  /** Shared global negatives per batch (|B'|). 0 = pure in-batch. Default 1024 (ccl), 256 (softmax). */
  readonly nGlobal?: number;
  /** b of the global negatives' popularity^b; 0 = uniform (default). */
  readonly globalPower?: number;
  /** Include in-batch negatives. Default false (ccl), true (softmax: mixed negatives). */
  readonly inBatch?: boolean;
  /** Subtract log Q. Default false (ccl), true (softmax). */
  readonly logQ?: boolean;
  /** "cosine" (default) or "dot". */
  readonly score?: "dot" | "cosine";
  /** Adam learning rate. Default 0.01 (ccl), 0.005 (softmax). */
  readonly lr?: number;
  /** L2 on touched rows. Default 0. */
  readonly l2?: number;
  /** Normal init scale. Default 0.1. */
  readonly initScale?: number;
  /**
   * "random" (default): N(0, initScale²) rows. "spectral": both tables start at the graph's ideal
   * low-pass factorisation (encoders/spectral-init.ts; rows rescaled to the random start's norm).
   */
  readonly start?: "random" | "spectral";
}

type Resolved = Required<Omit<MfSoftmaxOptions, keyof EmbeddingModelOptions>> & {
  epochs: number;
  batchSize: number;
  lrDecay: number;
};

/** Every option of the recipe with the chosen loss's default filled in. */
export function mfSoftmaxDefaults(o: MfSoftmaxOptions = {}): Resolved {
  const ccl = o.loss === "ccl";
  return {
    loss: ccl ? "ccl" : "softmax",
    dim: o.dim ?? 64,
    temperature: o.temperature ?? 0.1,
    margin: o.margin ?? 0.9,
    negativeWeight: o.negativeWeight ?? 150,
    nGlobal: o.nGlobal ?? (ccl ? 1024 : 256),
    globalPower: o.globalPower ?? 0,
    inBatch: o.inBatch ?? !ccl,
    logQ: o.logQ ?? !ccl,
    score: o.score ?? "cosine",
    lr: o.lr ?? (ccl ? 0.01 : 0.005),
    l2: o.l2 ?? 0,
    initScale: o.initScale ?? 0.1,
    start: o.start ?? "random",
    epochs: o.epochs ?? 30,
    batchSize: o.batchSize ?? (ccl ? 512 : 256),
    lrDecay: o.lrDecay ?? 1,
  };
}

export function mfSoftmaxRecipe(opts: MfSoftmaxOptions = {}): Recipe {
  const o = mfSoftmaxDefaults(opts);
  const global = negatives.popularity({
    power: o.globalPower,
    count: o.nGlobal,
    shared: true,
    smoothing: 1,
  });
  let loss: losses.Loss;
  if (o.loss === "ccl") {
    // CCL reads raw cosines: τ would rescale the margin and −log Q has no probabilistic meaning
    // here; accidental hits still apply when asked for through logQ/in-batch.
    const ts: losses.ScoreTransform[] = [];
    if (o.logQ) ts.push(losses.transforms.logQ());
    if (o.inBatch) ts.push(losses.transforms.accidentalHits());
    loss = losses.ccl({ margin: o.margin, negativeWeight: o.negativeWeight, transforms: ts });
  } else {
    const ts = [losses.transforms.temperature(o.temperature)];
    if (o.logQ) ts.push(losses.transforms.logQ());
    ts.push(losses.transforms.accidentalHits());
    loss = losses.softmax({ transforms: ts });
  }
  assert(
    o.start === "random" || o.start === "spectral",
    () => `mf-softmax: start must be "random" or "spectral", got "${o.start}"`,
  );
  const start = o.start === "spectral" ? encoders.spectralStart({ scale: o.initScale }) : null;
  return {
    positives: positives.userItem(),
    negatives: o.inBatch ? negatives.mixed({ global, nGlobal: o.nGlobal }) : global,
    query: encoders.idTable({ dim: o.dim, scale: o.initScale, ...(start ? { start: start.query } : {}) }),
    item: encoders.idTable({ dim: o.dim, scale: o.initScale, ...(start ? { start: start.item } : {}) }),
    loss,
    score: o.score,
  };
}

export class MfSoftmax extends EmbeddingModel {
  constructor(o: MfSoftmaxOptions = {}) {
    const {
      dim: _d,
      temperature: _t,
      nGlobal: _n,
      globalPower: _g,
      inBatch: _i,
      logQ: _q,
      score: _s,
      lr: _lr,
      l2: _l2,
      initScale: _is,
      start: _st,
      loss: _loss,
      margin: _m,
      negativeWeight: _w,
      ...train
    } = o;
    const { epochs, batchSize, lrDecay, ...given } = mfSoftmaxDefaults(o);
    super(
      mfSoftmaxRecipe(o),
      {
        ...train,
        epochs,
        batchSize,
        lrDecay,
        optimizer: o.optimizer ?? adam({ lr: given.lr, l2: given.l2 }),
        kind: "mf-softmax",
      },
      given,
    );
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "mf-softmax");
  }
}
