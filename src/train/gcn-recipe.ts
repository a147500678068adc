/**
 * The recipe shared by the GCN models (LightGCN, PinSage, GraphSAGE): positives are the graph's
 * user → item edges, the query and item encoders are the two sides of one graph encoder, and
 * negatives/loss are the framework's — softmax over shared global (uniform) negatives, optionally
 * plus in-batch ones, cosine, τ, −log Q, accidental hits removed (default); or the papers' BPR
 * with one uniform negative per positive and dot scores.
 */
import type { Encoder } from "../encoders/types.ts";
import * as losses from "../losses/index.ts";
import * as negatives from "../negatives/index.ts";
import type { NegativeSampler } from "../negatives/types.ts";
import * as positives from "../positives/index.ts";
import type { Recipe } from "./recipe.ts";

export interface GcnLossOptions {
  /** "softmax" (default) or "bpr". */
  readonly loss?: "softmax" | "bpr";
  /** Softmax: τ of s/τ. Default 0.1. */
  readonly temperature?: number;
  /** Softmax: shared global (uniform) negatives per batch. Default 1024. */
  readonly nGlobal?: number;
  /** Softmax: include in-batch negatives. Default false (large batches make them costly). */
  readonly inBatch?: boolean;
  /** Softmax: subtract log Q. Default true. */
  readonly logQ?: boolean;
  /** "cosine" (default for softmax) or "dot" (default for BPR). */
  readonly score?: "dot" | "cosine";
}

/** The option names of `GcnLossOptions` (model option lists, the registry). */
export const GCN_LOSS_OPTIONS = ["loss", "temperature", "nGlobal", "inBatch", "logQ", "score"] as const;

/** The loss options plus the optimiser and initialisation ones every GCN model takes. */
export const GCN_MODEL_OPTIONS = [...GCN_LOSS_OPTIONS, "lr", "l2", "initScale"] as const;

/** Resolved loss options, for manifests. */
export function gcnLossParams(o: GcnLossOptions): Record<string, unknown> {
  const bpr = (o.loss ?? "softmax") === "bpr";
  return bpr
    ? { loss: "bpr", score: o.score ?? "dot" }
    : {
        loss: "softmax",
        temperature: o.temperature ?? 0.1,
        nGlobal: o.nGlobal ?? 1024,
        inBatch: o.inBatch ?? false,
        logQ: o.logQ ?? true,
        score: o.score ?? "cosine",
      };
}

export function gcnRecipe(
  pair: { readonly users: Encoder; readonly items: Encoder },
  o: GcnLossOptions,
  negativeOverride?: NegativeSampler,
): Recipe {
  if ((o.loss ?? "softmax") === "bpr")
    return {
      positives: positives.userItem(),
      negatives: negativeOverride ?? negatives.uniform({ count: 1 }),
      query: pair.users,
      item: pair.items,
      loss: losses.bpr(),
      score: o.score ?? "dot",
    };
  const nGlobal = o.nGlobal ?? 1024;
  const global = negatives.popularity({ power: 0, count: nGlobal, shared: true, smoothing: 1 });
  const ts = [losses.transforms.temperature(o.temperature ?? 0.1)];
  if (o.logQ ?? true) ts.push(losses.transforms.logQ());
  ts.push(losses.transforms.accidentalHits());
  return {
    positives: positives.userItem(),
    negatives: negativeOverride ?? ((o.inBatch ?? false) ? negatives.mixed({ global, nGlobal }) : global),
    query: pair.users,
    item: pair.items,
    loss: losses.softmax({ transforms: ts }),
    score: o.score ?? "cosine",
  };
}
