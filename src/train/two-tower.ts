/**
 * The two-tower training loop (spec §5.5): the generic loop of trainer.ts plus what DNN towers
 * need —
 *
 * - the batch's targets are handed to towers that read behaviour history (`setTargets`), so a
 *   row's own positive is dropped from its history during training;
 * - mixed negative sampling (5-31/5-32, Yang et al. WWW'20): the shared global negatives run
 *   through the item tower with gradients, or — opt-in `negativeCache` — are scored with cached
 *   item-tower outputs (refreshed every `cacheRefresh` batches and at every epoch start; the
 *   batch's positives are written back fresh every step), no gradient flowing into them;
 * - everything else is the framework's: the recipe's sampler (Q for −log Q, counts or the
 *   streaming estimator), the softmax loss with τ / −log Q / accidental-hit transforms,
 *   cosine or dot scores, sparse optimizer steps.
 */
import type { Encoder, EncoderContext, SparseOptimizer } from "../encoders/types.ts";
import { assert } from "../errors.ts";
import { normalizeRowsBackward, normalizeRowsInto } from "../losses/transforms/normalize.ts";
import type { ScoreContext } from "../losses/types.ts";
import { normalizeRows } from "../math/blas.ts";
import { Gemm } from "../math/gemm-wasm.ts";
import { Rng } from "../math/rng.ts";
import type { SampleRequest } from "../negatives/types.ts";
import type { Dataset } from "../types.ts";
import { adam } from "./optimizers/adam.ts";
import type { EpochInfo, EpochRecord, ProgressInfo, Recipe, TrainOptions } from "./recipe.ts";
import { layoutOf, ScoreScratch, scoresBackward, scoresInto } from "./scores.ts";
import { checkLrSteps, exportVectors, lrFactorAfter, type Trained } from "./trainer.ts";

export interface TwoTowerTrainOptions extends TrainOptions {
  /**
   * Score the sampler's shared (global) negatives with cached item vectors instead of running the
   * item tower on them (no gradient flows into them). Default false: measured on ML-100k, a cache
   * refreshed once per epoch ruined training (Recall@20 0.002 against 0.335 without it; BENCHMARKS.md)
   * — a tail item's cached vector goes stale as the shared MLP moves and is never pushed down.
   */
  readonly negativeCache?: boolean;
  /** With the cache: full refresh every this many batches (0 = once per epoch). Default 50. */
  readonly cacheRefresh?: number;
}

/** Towers that read history take the batch's targets (duck-typed: any encoder may offer it). */
interface TargetAware {
  setTargets(t: Int32Array | null): void;
  setTraining(on: boolean): void;
}
function targetAware(e: Encoder): TargetAware | null {
  const x = e as Partial<TargetAware>;
  return typeof x.setTargets === "function" && typeof x.setTraining === "function"
    ? (x as TargetAware)
    : null;
}

/** Prepares every part of `recipe` on `data` and trains it with the two-tower loop. */
export async function trainTwoTower(
  recipe: Recipe,
  data: Dataset,
  opts: TwoTowerTrainOptions = {},
): Promise<Trained> {
  const epochs = opts.epochs ?? 10;
  const B = opts.batchSize ?? 1024;
  const optimizer: SparseOptimizer = opts.optimizer ?? adam({ lr: 1e-3 });
  const patience = opts.patience ?? Number.POSITIVE_INFINITY;
  const lrSteps = {
    lrDecay: opts.lrDecay ?? 1,
    lrMilestones: opts.lrMilestones ?? [],
    lrGamma: opts.lrGamma ?? 0.1,
  };
  checkLrSteps(lrSteps.lrMilestones, lrSteps.lrGamma, "trainTwoTower");
  const refresh = opts.cacheRefresh ?? 50;
  assert(
    Number.isInteger(epochs) && epochs >= 0,
    () => `trainTwoTower: epochs must be an integer ≥ 0, got ${epochs}`,
  );
  assert(Number.isInteger(B) && B >= 1, () => `trainTwoTower: batchSize must be an integer ≥ 1, got ${B}`);
  assert(
    Number.isInteger(refresh) && refresh >= 0,
    () => `trainTwoTower: cacheRefresh must be an integer ≥ 0`,
  );
  assert(
    recipe.query.dim === recipe.item.dim,
    () =>
      `query tower dim ${recipe.query.dim} ≠ item tower dim ${recipe.item.dim}; the final dot needs equal sizes`,
  );
  assert(recipe.query !== recipe.item, () => "trainTwoTower: the two towers must be distinct encoders");
  const rng = new Rng(opts.seed ?? 42);
  const info = recipe.positives.prepare(data);
  const batchesPerEpoch = Math.max(1, Math.ceil(recipe.positives.epochSize / B));
  const neg = recipe.negatives;
  neg.prepare({ nItems: info.nTargets, counts: info.targetCounts, batchesPerEpoch });
  const ctx = (nRows: number, bags: EncoderContext["bags"]): EncoderContext => ({
    nRows,
    rng,
    data,
    bags,
    optimizer,
    sharedMemory: false,
  });
  recipe.query.prepare(ctx(info.nQueries, info.queryBags));
  recipe.item.prepare(ctx(info.nTargets, info.targetBags));
  const qAware = targetAware(recipe.query);
  const iAware = targetAware(recipe.item);

  const dim = recipe.item.dim;
  const cosine = recipe.score === "cosine";
  const S = neg.count;
  const useCache = (opts.negativeCache ?? false) && neg.shared && S > 0;
  const negLen = neg.shared ? S : B * S;
  const q = new Int32Array(B);
  const t = new Int32Array(B);
  const negIds = new Int32Array(negLen);
  const itemIds = new Int32Array(B + negLen);
  const Q = new Float32Array(B * dim);
  const dQ = new Float32Array(B * dim);
  const C = new Float32Array((B + negLen) * dim);
  const dC = new Float32Array((B + negLen) * dim);
  const qNorm = new Float32Array(B);
  const cNorm = new Float32Array(B + negLen);
  const lqItems = new Float32Array(B + negLen);
  const labels = new Int32Array(B);
  let scores = new Float32Array(0);
  let dScores = new Float32Array(0);
  let candIds = new Int32Array(0);
  let logQ = new Float32Array(0);
  const gemm = new Gemm();
  const scratch = new ScoreScratch();
  let cache: Float32Array = new Float32Array(0);
  const refreshCache = () => {
    iAware?.setTraining(false);
    cache = recipe.item.exportAll();
    if (cosine) normalizeRows(cache, info.nTargets, dim);
  };

  const params = [...new Set([...recipe.query.parameters(), ...recipe.item.parameters()])];
  let best: Float32Array[] | null = null;
  let bestMetric = Number.NEGATIVE_INFINITY;
  let bestEpoch = 0;
  let sinceBest = 0;
  const history: EpochRecord[] = [];
  let step = 0;
  const t0 = performance.now();
  const every = (opts.progressEverySec ?? 2) * 1000;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const te = performance.now();
    recipe.positives.startEpoch(rng);
    if (useCache) refreshCache();
    qAware?.setTraining(true);
    iAware?.setTraining(true);
    let pairs = 0;
    let lossSum = 0;
    let lastReport = performance.now();
    const progress = () => {
      const s = (performance.now() - te) / 1000;
      const p: ProgressInfo = {
        epoch,
        epochs,
        done: pairs,
        total: recipe.positives.epochSize,
        samplesPerSec: pairs / Math.max(s, 1e-9),
        loss: lossSum / Math.max(1, pairs),
      };
      opts.onProgress?.(p);
    };
    for (;;) {
      const n = recipe.positives.nextInto(rng, { q, t }, B);
      if (n === 0) break;
      if (useCache && refresh > 0 && step > 0 && step % refresh === 0) {
        refreshCache();
        iAware?.setTraining(true);
      }
      const req: SampleRequest = { rows: n, queryIds: q, posIds: t, step };
      neg.sampleInto(rng, req, negIds);
      neg.observe(req);
      const nNeg = neg.shared ? S : n * S;
      const L = layoutOf(n, dim, neg.inBatch, neg.shared, S);
      const nRows = n + nNeg;
      itemIds.set(t.subarray(0, n), 0);
      itemIds.set(negIds.subarray(0, nNeg), n);
      // only item targets can sit in a history (u2u targets are history halves, not items)
      if (info.querySpace === "users") qAware?.setTargets(t.subarray(0, n));
      recipe.query.forwardInto(q, n, Q);
      // fresh item rows: the positives, plus the negatives unless they come from the cache
      const nFresh = useCache ? n : nRows;
      recipe.item.forwardInto(itemIds, nFresh, C);
      if (cosine) {
        normalizeRowsInto(Q, n, dim, qNorm);
        normalizeRowsInto(C, nFresh, dim, cNorm);
      }
      if (useCache) {
        for (let k = 0; k < nNeg; k++)
          C.set(cache.subarray(negIds[k] * dim, (negIds[k] + 1) * dim), (n + k) * dim);
      }
      const cells = n * L.nC;
      if (scores.length < cells) {
        scores = new Float32Array(cells);
        dScores = new Float32Array(cells);
      }
      scoresInto(L, Q, C, scores, gemm);
      // score context: labels, candidate ids and log Q per cell (as the generic loop)
      const needs = recipe.loss.needs;
      for (let i = 0; i < n; i++) labels[i] = L.inBatch ? i : 0;
      if ((needs.candidateIds || needs.logQ) && candIds.length < cells) {
        candIds = new Int32Array(cells);
        logQ = new Float32Array(cells);
      }
      if (needs.logQ) neg.logQInto(itemIds, nRows, lqItems, 0);
      if (needs.candidateIds || needs.logQ) {
        for (let i = 0; i < n; i++) {
          const o = i * L.nC;
          for (let c = 0; c < L.P; c++) {
            const k = L.inBatch ? c : i;
            candIds[o + c] = itemIds[k];
            logQ[o + c] = needs.logQ ? lqItems[k] : 0;
          }
          const k0 = L.shared ? n : n + i * L.S;
          for (let j = 0; j < L.S; j++) {
            candIds[o + L.P + j] = itemIds[k0 + j];
            logQ[o + L.P + j] = needs.logQ ? lqItems[k0 + j] : 0;
          }
        }
      }
      const sctx: ScoreContext = {
        nQ: n,
        nC: L.nC,
        labels,
        posIds: t,
        candIds: needs.candidateIds ? candIds : null,
        logQ: needs.logQ ? logQ : null,
      };
      const loss = recipe.loss.forwardBackward(scores, sctx, dScores);
      lossSum += recipe.loss.reduction === "mean" ? loss * n : loss;
      scoresBackward(L, Q, C, dScores, dQ, dC, nRows, gemm, scratch);
      if (cosine) {
        normalizeRowsBackward(Q, qNorm, n, dim, dQ);
        normalizeRowsBackward(C, cNorm, nFresh, dim, dC);
      }
      optimizer.nextStep();
      recipe.query.backward(q, n, dQ);
      recipe.item.backward(itemIds, nFresh, dC);
      if (useCache) for (let i = 0; i < n; i++) cache.set(C.subarray(i * dim, (i + 1) * dim), t[i] * dim);
      step++;
      pairs += n;
      if (performance.now() - lastReport > every) {
        lastReport = performance.now();
        progress();
        await new Promise((res) => setImmediate(res));
      }
    }
    qAware?.setTraining(false);
    iAware?.setTraining(false);
    progress();
    const seconds = (performance.now() - te) / 1000;
    optimizer.scaleLearningRate(lrFactorAfter(epoch, lrSteps));
    const rec = {
      epoch,
      loss: lossSum / Math.max(1, pairs),
      seconds,
      samplesPerSec: pairs / Math.max(seconds, 1e-9),
    };
    const ei: EpochInfo = { ...rec, epochs, vectors: () => exportVectors(recipe) };
    const metric = await opts.onEpoch?.(ei);
    history.push(metric === undefined ? rec : { ...rec, metric });
    if (best === null) bestEpoch = epoch;
    if (metric !== undefined) {
      if (metric > bestMetric) {
        bestMetric = metric;
        bestEpoch = epoch;
        sinceBest = 0;
        best = params.map((p) => p.slice());
      } else if (++sinceBest >= patience) break;
    }
  }
  if (best !== null) {
    const b: Float32Array[] = best;
    params.forEach((p, k) => {
      p.set(b[k]);
    });
  }
  return {
    info,
    report: {
      path: useCache ? "two-tower(cached negatives)" : "two-tower",
      workers: 0,
      history,
      bestEpoch,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}
