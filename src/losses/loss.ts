/** Glue: a loss kernel plus its transforms and reduction, as one `Loss` part. */
import { assert } from "../errors.ts";
import type {
  Loss,
  LossKernel,
  LossNeeds,
  PairwiseForm,
  ScoreContext,
  Scores,
  ScoreTransform,
} from "./types.ts";

export interface LossOptions {
  /** Applied in order before the kernel (and in reverse to the gradient). Default none. */
  readonly transforms?: readonly ScoreTransform[];
  /** "mean" over rows (default, spec's 1/|B|) or "sum" (per-sample SGD scale). */
  readonly reduction?: "mean" | "sum";
}

/** Builds a `Loss` from a kernel; used by every factory in losses/index.ts and open to users. */
export function makeLoss(
  name: string,
  kernel: LossKernel,
  o: LossOptions = {},
  pairwise: PairwiseForm | null = null,
): Loss {
  const transforms = o.transforms ?? [];
  const reduction = o.reduction ?? "mean";
  assert(
    reduction === "mean" || reduction === "sum",
    () => `losses.${name}: reduction must be "mean" or "sum", got "${reduction}"`,
  );
  const needs: { logQ?: true; candidateIds?: true } = {};
  for (const t of transforms) {
    if (t.needs.logQ) needs.logQ = true;
    if (t.needs.candidateIds) needs.candidateIds = true;
  }
  return {
    name: transforms.length === 0 ? name : `${name}[${transforms.map((t) => t.name).join(",")}]`,
    needs: needs as LossNeeds,
    transforms,
    reduction,
    pairwise: transforms.length === 0 ? pairwise : null,
    forwardBackward(scores: Scores, ctx: ScoreContext, dScores: Scores): number {
      for (let t = 0; t < transforms.length; t++) transforms[t].forward(scores, ctx);
      const total = kernel(scores, ctx.nQ, ctx.nC, ctx.labels, dScores);
      if (reduction === "mean" && ctx.nQ > 0) scaleInPlace(dScores, ctx.nQ * ctx.nC, 1 / ctx.nQ);
      for (let t = transforms.length - 1; t >= 0; t--) transforms[t].backward(dScores, ctx);
      return reduction === "mean" && ctx.nQ > 0 ? total / ctx.nQ : total;
    },
  };
}

/** x[0..n) *= f, one loop per array type so each loop stays monomorphic. */
function scaleInPlace(x: Scores, n: number, f: number): void {
  if (x instanceof Float32Array) scaleF32(x, n, f);
  else scaleF64(x, n, f);
}
function scaleF32(x: Float32Array, n: number, f: number): void {
  for (let e = 0; e < n; e++) x[e] *= f;
}
function scaleF64(x: Float64Array, n: number, f: number): void {
  for (let e = 0; e < n; e++) x[e] *= f;
}
