/**
 * `losses.*` factories (spec §5.2.4). Two kernels cover the softmax family and the binary family;
 * the spec's names are aliases that preset the transforms:
 *
 * | spec name                 | here                                                          |
 * |---------------------------|---------------------------------------------------------------|
 * | NEG (5-5)                 | `binary()`                                                    |
 * | NCE (5-3/5-4)             | `binary({ transforms: [logQ()] })` = `nce()`                  |
 * | sampled softmax (5-12)    | `softmax({ transforms: [logQ()] })` = `sampledSoftmax()`      |
 * | in-batch softmax (5-30)   | `softmax({ transforms: [temperature(τ), logQ()] })` + `negatives.inBatch()` |
 * | margin hinge (5-13)       | `hinge({ margin })`                                           |
 * | BPR (5-14)                | `bpr()`                                                       |
 * | CCL (SimpleX, CIKM'21)    | `ccl({ margin, negativeWeight })` with cosine scores          |
 */
import { assert } from "../errors.ts";
import {
  binaryKernel,
  bprKernel,
  cclKernel,
  hingeKernel,
  sigmoid,
  softmaxKernel,
  softplus,
} from "./kernels.ts";
import { type LossOptions, makeLoss } from "./loss.ts";
import { accidentalHits } from "./transforms/accidental-hits.ts";
import { logQ } from "./transforms/log-q.ts";
import { temperature } from "./transforms/temperature.ts";
import type { Loss, ScoreTransform } from "./types.ts";

export {
  binaryKernel,
  bprKernel,
  cclKernel,
  hingeKernel,
  sigmoid,
  softmaxKernel,
  softplus,
} from "./kernels.ts";
export { type LossOptions, makeLoss } from "./loss.ts";
export * as transforms from "./transforms/index.ts";
export type {
  Loss,
  LossKernel,
  LossNeeds,
  PairwiseForm,
  ScoreContext,
  Scores,
  ScoreTransform,
} from "./types.ts";

/** Softmax cross-entropy over each row's candidates. */
export function softmax(o: LossOptions = {}): Loss {
  return makeLoss("softmax", softmaxKernel, o);
}

/** Binary cross-entropy per cell (NEG; add `transforms.logQ()` for NCE). */
export function binary(o: LossOptions = {}): Loss {
  return makeLoss("binary", binaryKernel, o);
}

/** BPR: Σ over negatives of log(1 + exp(s⁻ − s⁺)). */
export function bpr(o: LossOptions = {}): Loss {
  return makeLoss("bpr", bprKernel, o, {
    source: { url: import.meta.url, factory: "bpr", options: { reduction: o.reduction } },
    // ℓ(x) = softplus(−x), dℓ/dx = −σ(−x), x = s⁺ − s⁻
    lossAndGrad(x, out) {
      out[0] = softplus(-x);
      out[1] = -sigmoid(-x);
    },
  });
}

export interface HingeOptions extends LossOptions {
  /** Margin m of max(0, m − s⁺ + s⁻). Default 1 (use ~0.1–0.5 with cosine scores). */
  readonly margin?: number;
}

/** Marginal hinge: Σ over negatives of max(0, m − s⁺ + s⁻). */
export function hinge(o: HingeOptions = {}): Loss {
  const m = o.margin ?? 1;
  assert(Number.isFinite(m), () => `losses.hinge: margin must be finite, got ${m}`);
  return makeLoss(`hinge(${m})`, hingeKernel(m), o, {
    source: { url: import.meta.url, factory: "hinge", options: { margin: m, reduction: o.reduction } },
    lossAndGrad(x, out) {
      const h = m - x;
      out[0] = Math.max(h, 0);
      out[1] = h > 0 ? -1 : 0;
    },
  });
}

/** NCE (5-4): binary loss on s − log Q. */
export function nce(o: LossOptions = {}): Loss {
  return binary({ ...o, transforms: [logQ(), ...(o.transforms ?? [])] });
}

/** NEG (5-5): binary loss on raw scores. Same as `binary()`. */
export const neg = binary;

/** Sampled softmax (5-12): softmax on s − log Q with accidental hits removed. */
export function sampledSoftmax(o: LossOptions = {}): Loss {
  return softmax({ ...o, transforms: [logQ(), accidentalHits(), ...(o.transforms ?? [])] });
}

export interface InBatchSoftmaxOptions extends LossOptions {
  /** τ of s/τ. Default 0.1. */
  readonly temperature?: number;
  /** Subtract log Q (default true). */
  readonly logQ?: boolean;
}

/** In-batch softmax (5-30): softmax on s/τ − log Q with accidental hits removed. */
export function inBatchSoftmax(o: InBatchSoftmaxOptions = {}): Loss {
  const ts: ScoreTransform[] = [temperature(o.temperature ?? 0.1)];
  if (o.logQ ?? true) ts.push(logQ());
  ts.push(accidentalHits());
  return softmax({ ...o, transforms: [...ts, ...(o.transforms ?? [])] });
}

export interface CclOptions extends LossOptions {
  /** Margin m: only negatives with cosine above m are pushed down. Default 0.9. */
  readonly margin?: number;
  /** Weight w of the mean negative term (the paper's negative_weight). Default 150. */
  readonly negativeWeight?: number;
}

/**
 * Cosine contrastive loss (SimpleX, CIKM'21): (1 − s⁺) + w · mean over negatives of
 * max(0, s⁻ − m). Meant for cosine scores (`score: "cosine"`) and many negatives.
 * @example losses.ccl({ margin: 0.9, negativeWeight: 150 })
 */
export function ccl(o: CclOptions = {}): Loss {
  const m = o.margin ?? 0.9;
  const w = o.negativeWeight ?? 150;
  assert(Number.isFinite(m), () => `losses.ccl: margin must be finite, got ${m}`);
  assert(Number.isFinite(w) && w >= 0, () => `losses.ccl: negativeWeight must be ≥ 0, got ${w}`);
  return makeLoss(`ccl(${m},${w})`, cclKernel(m, w), o);
}
