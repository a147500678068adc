/**
 * The one generic training loop. It sees parts only through their interfaces and structural
 * properties (sampler `shared`/`inBatch`/`count`, loss `needs`, encoder `table`, optimizer `sgd`)
 * and never branches on a part's name. Per batch:
 *
 *   positives.nextInto → negatives.sampleInto/observe → query/item forwardInto (→ L2-normalise
 *   under cosine) → scores (scores.ts) → loss.forwardBackward (transforms inside) → dQ, dItems →
 *   normalisation backward → optimizer.nextStep → query/item backward (sparse row updates; with
 *   `skipZeroGradientRows`, item rows whose gradient is exactly zero are dropped first).
 *
 * When the parts qualify for a fused kernel (fused-pairwise.ts) the epoch runs that kernel
 * instead, in-process (`workers: 0`, exact) or Hogwild across workers (hogwild.ts).
 */
import type { EncoderContext, SparseOptimizer } from "../encoders/types.ts";
import { assert } from "../errors.ts";
import { normalizeRowsBackward, normalizeRowsInto } from "../losses/transforms/normalize.ts";
import type { ScoreContext } from "../losses/types.ts";
import { AliasTable } from "../math/alias.ts";
import { normalizeRows } from "../math/blas.ts";
import { Gemm } from "../math/gemm-wasm.ts";
import { Rng } from "../math/rng.ts";
import type { SampleRequest } from "../negatives/types.ts";
import type { PositiveInfo } from "../positives/types.ts";
import type { Dataset } from "../types.ts";
import { type FusedPairwisePlan, fusedPairwisePlan, pairwiseSgdRange } from "./fused-pairwise.ts";
import { HogwildPool } from "./hogwild.ts";
import { adam } from "./optimizers/adam.ts";
import type { EpochInfo, EpochRecord, ProgressInfo, Recipe, TrainOptions, TrainReport } from "./recipe.ts";
import { type Layout, layoutOf, ScoreScratch, scoresBackward, scoresInto } from "./scores.ts";

interface Resolved {
  epochs: number;
  batchSize: number;
  seed: number;
  optimizer: SparseOptimizer;
  workers: number;
  fused: boolean;
  patience: number;
  lrDecay: number;
  lrMilestones: readonly number[];
  lrGamma: number;
  progressEverySec: number;
  skipZeroGradientRows: boolean;
}

function resolve(o: TrainOptions): Resolved {
  const r: Resolved = {
    epochs: o.epochs ?? 10,
    batchSize: o.batchSize ?? 1024,
    seed: o.seed ?? 42,
    optimizer: o.optimizer ?? adam({ lr: 1e-3 }),
    workers: o.workers ?? 0,
    fused: o.fused ?? true,
    patience: o.patience ?? Number.POSITIVE_INFINITY,
    lrDecay: o.lrDecay ?? 1,
    lrMilestones: o.lrMilestones ?? [],
    lrGamma: o.lrGamma ?? 0.1,
    progressEverySec: o.progressEverySec ?? 2,
    skipZeroGradientRows: o.skipZeroGradientRows ?? false,
  };
  const int = (v: number, lo: number) => Number.isInteger(v) && v >= lo;
  assert(int(r.epochs, 0), () => `train: epochs must be an integer ≥ 0, got ${r.epochs}`);
  assert(int(r.batchSize, 1), () => `train: batchSize must be an integer ≥ 1, got ${r.batchSize}`);
  assert(int(r.workers, 0), () => `train: workers must be an integer ≥ 0, got ${r.workers}`);
  assert(r.patience >= 1, () => `train: patience must be ≥ 1, got ${r.patience}`);
  assert(r.lrDecay > 0 && r.lrDecay <= 1, () => `train: lrDecay must be in (0, 1], got ${r.lrDecay}`);
  checkLrSteps(r.lrMilestones, r.lrGamma, "train");
  return r;
}

/** Validates a step schedule (`lrMilestones`, `lrGamma`). */
export function checkLrSteps(milestones: readonly number[], gamma: number, who: string): void {
  assert(
    milestones.every((e) => Number.isInteger(e) && e >= 1),
    () => `${who}: lrMilestones must be epochs (integers ≥ 1), got [${milestones.join(", ")}]`,
  );
  assert(gamma > 0 && gamma <= 1, () => `${who}: lrGamma must be in (0, 1], got ${gamma}`);
}

/** The learning-rate factor to apply after `epoch`: lrDecay, times lrGamma at a milestone. */
export function lrFactorAfter(
  epoch: number,
  o: { lrDecay: number; lrMilestones: readonly number[]; lrGamma: number },
): number {
  return o.lrDecay * (o.lrMilestones.includes(epoch) ? o.lrGamma : 1);
}

/** What `train` leaves behind besides the report: the prepared parts' metadata. */
export interface Trained {
  readonly report: TrainReport;
  readonly info: PositiveInfo;
}

/** Vectors as served: each encoder's export, L2-normalised under cosine. Allocates. */
export function exportVectors(recipe: Recipe): { dim: number; queries: Float32Array; items: Float32Array } {
  const queries = recipe.query.exportAll();
  const items = recipe.item.exportAll();
  if (recipe.score === "cosine") {
    normalizeRows(queries, queries.length / recipe.query.dim, recipe.query.dim);
    normalizeRows(items, items.length / recipe.item.dim, recipe.item.dim);
  }
  return { dim: recipe.item.dim, queries, items };
}

/** Prepares every part of `recipe` on `data` and trains it. */
export async function train(recipe: Recipe, data: Dataset, opts: TrainOptions = {}): Promise<Trained> {
  const o = resolve(opts);
  assert(
    recipe.score === "dot" || recipe.score === "cosine",
    () => `recipe.score must be "dot" or "cosine", got "${recipe.score}"`,
  );
  assert(
    recipe.query.dim === recipe.item.dim,
    () =>
      `query encoder dim ${recipe.query.dim} ≠ item encoder dim ${recipe.item.dim}; the final dot needs equal sizes`,
  );
  const rng = new Rng(o.seed);
  const info = recipe.positives.prepare(data);
  const batchesPerEpoch = Math.max(1, Math.ceil(recipe.positives.epochSize / o.batchSize));
  recipe.negatives.prepare({ nItems: info.nTargets, counts: info.targetCounts, batchesPerEpoch });
  // Eligibility is structural and known before prepare; the plan itself reads the prepared tables.
  const fusable = o.fused && fusedPairwisePlan(recipe, o.optimizer) !== null;
  const shared = fusable && o.workers > 0;
  const ctx = (nRows: number, bags: EncoderContext["bags"]): EncoderContext => ({
    nRows,
    rng,
    data,
    bags,
    optimizer: o.optimizer,
    sharedMemory: shared,
  });
  recipe.query.prepare(ctx(info.nQueries, info.queryBags));
  if (recipe.item !== recipe.query) recipe.item.prepare(ctx(info.nTargets, info.targetBags));
  else
    assert(
      info.nQueries === info.nTargets,
      () => `a tied encoder needs equal query (${info.nQueries}) and target (${info.nTargets}) spaces`,
    );

  const plan = fusable ? fusedPairwisePlan(recipe, o.optimizer) : null;
  const runner =
    plan !== null ? await FusedRunner.start(recipe, plan, o, rng) : new GenericRunner(recipe, o, rng);
  const params = [...new Set([...recipe.query.parameters(), ...recipe.item.parameters()])];
  let best: Float32Array[] | null = null;
  let bestMetric = Number.NEGATIVE_INFINITY;
  let bestEpoch = 0;
  let sinceBest = 0;
  const history: EpochRecord[] = [];
  const t0 = performance.now();
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const te = performance.now();
      recipe.positives.startEpoch(rng);
      const progress = (done: number, lossSum: number) => {
        const s = (performance.now() - te) / 1000;
        const p: ProgressInfo = {
          epoch,
          epochs: o.epochs,
          done,
          total: recipe.positives.epochSize,
          samplesPerSec: done / Math.max(s, 1e-9),
          loss: lossSum / Math.max(1, done),
        };
        opts.onProgress?.(p);
      };
      const { pairs, lossSum } = await runner.epoch(epoch, progress);
      progress(pairs, lossSum);
      const seconds = (performance.now() - te) / 1000;
      o.optimizer.scaleLearningRate(lrFactorAfter(epoch, o));
      const rec = {
        epoch,
        loss: lossSum / Math.max(1, pairs),
        seconds,
        samplesPerSec: pairs / Math.max(seconds, 1e-9),
      };
      const ei: EpochInfo = { ...rec, epochs: o.epochs, vectors: () => exportVectors(recipe) };
      const metric = await opts.onEpoch?.(ei);
      history.push(metric === undefined ? rec : { ...rec, metric });
      // Without any metric yet the latest epoch is "best"; once validated, only improvements count.
      if (best === null) bestEpoch = epoch;
      if (metric !== undefined) {
        if (metric > bestMetric) {
          bestMetric = metric;
          bestEpoch = epoch;
          sinceBest = 0;
          best = params.map((p) => p.slice());
        } else if (++sinceBest >= o.patience) break;
      }
    }
  } finally {
    await runner.close();
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
      path: runner.path,
      workers: runner.workers,
      history,
      bestEpoch,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}

type Progress = (done: number, lossSum: number) => void;

/**
 * Compacts (ids, grads) in place to the rows whose gradient is not all zero and returns their
 * number. A candidate that got no gradient (a negative below a margin loss's margin) is then not
 * touched by the optimizer at all — no lazy-Adam moment decay, no L2 — as if it had not been
 * sampled; with margin losses most sampled negatives are such rows.
 */
export function dropZeroRows(ids: Int32Array, grads: Float32Array, n: number, dim: number): number {
  let kept = 0;
  for (let k = 0; k < n; k++) {
    const o = k * dim;
    let nz = false;
    for (let p = 0; p < dim; p++)
      if (grads[o + p] !== 0) {
        nz = true;
        break;
      }
    if (!nz) continue;
    if (kept !== k) {
      ids[kept] = ids[k];
      grads.copyWithin(kept * dim, o, o + dim);
    }
    kept++;
  }
  return kept;
}

interface Runner {
  readonly path: string;
  readonly workers: number;
  epoch(epoch: number, progress: Progress): Promise<{ pairs: number; lossSum: number }>;
  close(): Promise<void>;
}

/** The batched path: any recipe. */
class GenericRunner implements Runner {
  readonly path = "generic";
  readonly workers = 0;
  private readonly B: number;
  private readonly dim: number;
  private readonly q: Int32Array;
  private readonly t: Int32Array;
  private readonly negIds: Int32Array;
  private readonly itemIds: Int32Array;
  private readonly Q: Float32Array;
  private readonly C: Float32Array;
  private readonly dQ: Float32Array;
  private readonly dC: Float32Array;
  private readonly qNorm: Float32Array;
  private readonly cNorm: Float32Array;
  private readonly lqItems: Float32Array;
  private scores = new Float32Array(0);
  private dScores = new Float32Array(0);
  private candIds = new Int32Array(0);
  private logQ = new Float32Array(0);
  private readonly labels: Int32Array;
  private readonly batch: { q: Int32Array; t: Int32Array };
  private readonly gemm = new Gemm();
  private readonly scratch = new ScoreScratch();
  private step = 0;

  constructor(
    private readonly r: Recipe,
    private readonly o: Resolved,
    private readonly rng: Rng,
  ) {
    const B = o.batchSize;
    const neg = r.negatives;
    this.B = B;
    this.dim = r.item.dim;
    const negLen = neg.shared ? neg.count : B * neg.count;
    this.q = new Int32Array(B);
    this.t = new Int32Array(B);
    this.negIds = new Int32Array(negLen);
    this.itemIds = new Int32Array(B + negLen);
    this.Q = new Float32Array(B * this.dim);
    this.dQ = new Float32Array(B * this.dim);
    this.C = new Float32Array((B + negLen) * this.dim);
    this.dC = new Float32Array((B + negLen) * this.dim);
    this.qNorm = new Float32Array(B);
    this.cNorm = new Float32Array(B + negLen);
    this.lqItems = new Float32Array(B + negLen);
    this.labels = new Int32Array(B);
    this.batch = { q: this.q, t: this.t };
  }

  async epoch(_epoch: number, progress: Progress): Promise<{ pairs: number; lossSum: number }> {
    const { r, o, rng, dim } = this;
    const neg = r.negatives;
    const cosine = r.score === "cosine";
    let pairs = 0;
    let lossSum = 0;
    let lastReport = performance.now();
    for (;;) {
      const n = r.positives.nextInto(rng, this.batch, this.B);
      if (n === 0) break;
      const req: SampleRequest = { rows: n, queryIds: this.q, posIds: this.t, step: this.step };
      neg.sampleInto(rng, req, this.negIds);
      neg.observe(req);
      const S = neg.count;
      const negLen = neg.shared ? S : n * S;
      const L: Layout = layoutOf(n, dim, neg.inBatch, neg.shared, S);
      const nItemRows = n + negLen;
      this.itemIds.set(this.t.subarray(0, n), 0);
      this.itemIds.set(this.negIds.subarray(0, negLen), n);
      r.query.forwardInto(this.q, n, this.Q);
      r.item.forwardInto(this.itemIds, nItemRows, this.C);
      if (cosine) {
        normalizeRowsInto(this.Q, n, dim, this.qNorm);
        normalizeRowsInto(this.C, nItemRows, dim, this.cNorm);
      }
      const cells = n * L.nC;
      if (this.scores.length < cells) {
        this.scores = new Float32Array(cells);
        this.dScores = new Float32Array(cells);
      }
      scoresInto(L, this.Q, this.C, this.scores, this.gemm);
      const ctx = this.context(L, nItemRows);
      const loss = r.loss.forwardBackward(this.scores, ctx, this.dScores);
      lossSum += r.loss.reduction === "mean" ? loss * n : loss;
      scoresBackward(L, this.Q, this.C, this.dScores, this.dQ, this.dC, nItemRows, this.gemm, this.scratch);
      if (cosine) {
        normalizeRowsBackward(this.Q, this.qNorm, n, dim, this.dQ);
        normalizeRowsBackward(this.C, this.cNorm, nItemRows, dim, this.dC);
      }
      o.optimizer.nextStep();
      r.query.backward(this.q, n, this.dQ);
      const itemRows = o.skipZeroGradientRows
        ? dropZeroRows(this.itemIds, this.dC, nItemRows, dim)
        : nItemRows;
      r.item.backward(this.itemIds, itemRows, this.dC);
      this.step++;
      pairs += n;
      if (performance.now() - lastReport > o.progressEverySec * 1000) {
        lastReport = performance.now();
        progress(pairs, lossSum);
        await new Promise((res) => setImmediate(res)); // let timers and I/O run during long epochs
      }
    }
    return { pairs, lossSum };
  }

  /** Labels, positive ids and — when the loss asks — candidate ids and log Q per cell. */
  private context(L: Layout, nItemRows: number): ScoreContext {
    const { n, nC } = L;
    for (let i = 0; i < n; i++) this.labels[i] = L.inBatch ? i : 0;
    const needs = this.r.loss.needs;
    const cells = n * nC;
    if ((needs.candidateIds || needs.logQ) && this.candIds.length < cells) {
      this.candIds = new Int32Array(cells);
      this.logQ = new Float32Array(cells);
    }
    if (needs.logQ) this.r.negatives.logQInto(this.itemIds, nItemRows, this.lqItems, 0);
    if (needs.candidateIds || needs.logQ) {
      const ids = this.itemIds;
      const lq = this.lqItems;
      const cand = this.candIds;
      const logQ = this.logQ;
      const withQ = needs.logQ === true;
      for (let i = 0; i < n; i++) {
        const o = i * nC;
        // cell (i, c) ↦ item row k, as itemIndex(L, i, c), unrolled per column block
        for (let c = 0; c < L.P; c++) {
          const k = L.inBatch ? c : i;
          cand[o + c] = ids[k];
          if (withQ) logQ[o + c] = lq[k];
        }
        const k0 = L.shared ? n : n + i * L.S;
        for (let j = 0; j < L.S; j++) {
          cand[o + L.P + j] = ids[k0 + j];
          if (withQ) logQ[o + L.P + j] = lq[k0 + j];
        }
      }
    }
    return {
      nQ: n,
      nC,
      labels: this.labels,
      posIds: this.t,
      candIds: needs.candidateIds ? this.candIds : null,
      logQ: needs.logQ ? this.logQ : null,
    };
  }

  async close(): Promise<void> {}
}

/** The fused per-triple path, in-process or Hogwild. */
class FusedRunner implements Runner {
  readonly path = "fused-pairwise-sgd";
  private q: Int32Array;
  private t: Int32Array;
  private readonly alias: AliasTable;
  private readonly lg = new Float64Array(2);

  private constructor(
    private readonly r: Recipe,
    private readonly plan: FusedPairwisePlan,
    private readonly o: Resolved,
    private readonly rng: Rng,
    private readonly pool: HogwildPool | null,
    readonly workers: number,
  ) {
    const cap = Math.ceil(r.positives.epochSize * 1.2) + o.batchSize;
    this.q = this.alloc(cap);
    this.t = this.alloc(cap);
    this.alias = new AliasTable(plan.prob);
  }

  static async start(r: Recipe, plan: FusedPairwisePlan, o: Resolved, rng: Rng): Promise<FusedRunner> {
    const src = plan.pairwise.source;
    const w = src === undefined ? 0 : o.workers;
    const pool =
      w > 0 && src !== undefined
        ? await HogwildPool.start(w, {
            U: plan.U,
            V: plan.V,
            dim: plan.dim,
            lr: plan.lr,
            l2: plan.l2,
            negPerRow: plan.negPerRow,
            prob: plan.prob,
            loss: src,
          })
        : null;
    return new FusedRunner(r, plan, o, rng, pool, w);
  }

  private alloc(n: number): Int32Array {
    return this.workers > 0 ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n);
  }

  /** Materialises the epoch's pairs (the source's own order and sub-sampling) into q, t. */
  private fill(): number {
    const B = this.o.batchSize;
    let n = 0;
    for (;;) {
      if (n + B > this.q.length) {
        const q2 = this.alloc(this.q.length * 2);
        const t2 = this.alloc(this.q.length * 2);
        q2.set(this.q);
        t2.set(this.t);
        this.q = q2;
        this.t = t2;
      }
      const got = this.r.positives.nextInto(this.rng, { q: this.q.subarray(n), t: this.t.subarray(n) }, B);
      if (got === 0) return n;
      n += got;
    }
  }

  async epoch(epoch: number, progress: Progress): Promise<{ pairs: number; lossSum: number }> {
    const n = this.fill();
    const p = this.plan;
    const lr = this.o.optimizer.sgd?.lr ?? p.lr; // follows lrDecay
    if (this.pool === null) {
      // in-process: chunks so progress can be reported
      let lossSum = 0;
      const chunk = 1 << 16;
      for (let from = 0; from < n; from += chunk) {
        const to = Math.min(n, from + chunk);
        lossSum += pairwiseSgdRange(
          p.U,
          p.V,
          p.dim,
          lr,
          p.l2,
          p.negPerRow,
          this.alias,
          p.pairwise,
          this.q,
          this.t,
          from,
          to,
          this.rng,
          this.lg,
        );
        if (to < n) progress(to, lossSum);
      }
      return { pairs: n, lossSum };
    }
    const W = this.workers;
    const base = this.rng.nextU32();
    const replies = await this.pool.all<{ loss: number }>((i) => ({
      q: this.q,
      t: this.t,
      from: Math.floor((i * n) / W),
      to: Math.floor(((i + 1) * n) / W),
      seed: (base + Math.imul(epoch, 0x9e3779b1) + i) >>> 0,
      lr,
    }));
    return { pairs: n, lossSum: replies.reduce((s, m) => s + m.loss, 0) };
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
