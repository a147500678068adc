/**
 * The fused training path of FM recall: when the recipe is two FM encoders (encoders/fm-encoder)
 * with a pairwise loss (reduction "sum", no transforms), a static per-row catalogue sampler and
 * plain SGD, each epoch runs the per-triple kernel of fm-kernel.ts in-process (`workers: 0`,
 * exact) or Hogwild across worker threads (fm.worker.ts). Any other recipe goes through the
 * generic loop (trainer.ts), which handles every loss through the same encoders.
 *
 * Also here: `rawCounts`, a negatives decorator that prepares its sampler on the items' raw
 * training frequencies F(t) (spec 5-22) rather than the positives' counts after the 5-21
 * down-sampling the trainer reports.
 */
import { FmEncoder } from "../encoders/fm-encoder.ts";
import type { EncoderContext, SparseOptimizer } from "../encoders/types.ts";
import { assert } from "../errors.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import type { NegativeSampler, SampleRequest, SamplerStats } from "../negatives/types.ts";
import type { PositiveInfo } from "../positives/types.ts";
import type { Dataset } from "../types.ts";
import { WorkerPool, workerUrl } from "../workers.ts";
import { type FmDropout, FmScratch, type FmSideTables, fmPairwiseSgdRange } from "./fm-kernel.ts";
import type { EpochRecord, Recipe, TrainOptions, TrainReport } from "./recipe.ts";

export interface FmHogwildInit {
  readonly user: FmSideTables;
  readonly item: FmSideTables;
  readonly d: number;
  readonly l2: number;
  readonly negPerRow: number;
  readonly prob: Float64Array;
  readonly drop: FmDropout;
  readonly logQ: Float32Array | null;
  readonly loss: { readonly url: string; readonly factory: string; readonly options: unknown };
}

export interface FmHogwildEpoch {
  readonly q: Int32Array;
  readonly t: Int32Array;
  readonly from: number;
  readonly to: number;
  readonly seed: number;
  readonly lr: number;
}

/** FM-only training options of the fused path. */
export interface FmTrainExtras {
  /** Sampling-bias correction: the loss sees x − (log Q(t⁺) − log Q(t⁻)). Default false. */
  readonly logQ?: boolean;
  /** "linear": lr decays linearly to lr/epochs over the run; "constant". Default "constant". */
  readonly lrSchedule?: "linear" | "constant";
}

/** Negatives decorator: `inner` is prepared on `counts` (set before training) instead of the trainer's. */
export class RawCounts implements NegativeSampler {
  counts: Float64Array | null = null;
  constructor(readonly inner: NegativeSampler) {}
  get name(): string {
    return this.inner.name;
  }
  get shared(): boolean {
    return this.inner.shared;
  }
  get inBatch(): boolean {
    return this.inner.inBatch;
  }
  get count(): number {
    return this.inner.count;
  }
  get prob(): Float64Array | null {
    return this.inner.prob;
  }
  prepare(stats: SamplerStats): void {
    this.inner.prepare(this.counts === null ? stats : { ...stats, counts: this.counts });
  }
  sampleInto(rng: Rng, req: SampleRequest, out: Int32Array): void {
    this.inner.sampleInto(rng, req, out);
  }
  observe(req: SampleRequest): void {
    this.inner.observe(req);
  }
  logQInto(items: Int32Array, n: number, out: Float32Array, outOff: number): void {
    this.inner.logQInto(items, n, out, outOff);
  }
}

/** Whether `recipe` + `optimizer` qualify for the fused FM kernel (structural). */
export function fmFusable(recipe: Recipe, optimizer: SparseOptimizer): boolean {
  const { negatives: n, loss } = recipe;
  return (
    recipe.query instanceof FmEncoder &&
    recipe.item instanceof FmEncoder &&
    recipe.score === "dot" &&
    loss.pairwise !== null &&
    loss.reduction === "sum" &&
    !n.shared &&
    !n.inBatch &&
    n.count >= 1 &&
    optimizer.sgd !== null &&
    // the kernel drops user ids only; an item encoder with id dropout takes the generic loop
    recipe.item.idDropout === 0
  );
}

/** log Q(t) per item (−30 for Q = 0: such an item is never drawn). */
function logQTable(prob: Float64Array, shared: boolean): Float32Array {
  const out = shared
    ? new Float32Array(new SharedArrayBuffer(prob.length * 4))
    : new Float32Array(prob.length);
  for (let t = 0; t < prob.length; t++) out[t] = prob[t] > 0 ? Math.log(prob[t]) : -30;
  return out;
}

function tables(e: FmEncoder): FmSideTables {
  const f = e.features;
  return { V: e.V, w: e.w, offsets: f.offsets, indices: f.indices, values: f.values as Float32Array };
}

/** Trains a fusable FM recipe; same options and report as `train` (no early-stopping restore). */
export async function fmTrain(
  recipe: Recipe,
  data: Dataset,
  o: TrainOptions & FmTrainExtras & { optimizer: SparseOptimizer },
): Promise<{ report: TrainReport; info: PositiveInfo }> {
  const epochs = o.epochs ?? 10;
  const B = o.batchSize ?? 1024;
  const W = o.workers ?? 0;
  assert(Number.isInteger(W) && W >= 0, () => `FmRecall: workers must be an integer ≥ 0, got ${W}`);
  const rng = new Rng(o.seed ?? 42);
  const info = recipe.positives.prepare(data);
  const neg = recipe.negatives;
  neg.prepare({ nItems: info.nTargets, counts: info.targetCounts, batchesPerEpoch: 1 });
  assert(neg.prob !== null, () => `FmRecall: fused training needs a sampler with a static Q (${neg.name})`);
  const ctx = (nRows: number): EncoderContext => ({
    nRows,
    rng,
    data,
    bags: null,
    optimizer: o.optimizer,
    sharedMemory: W > 0,
  });
  const qe = recipe.query as FmEncoder;
  const ie = recipe.item as FmEncoder;
  qe.prepare(ctx(info.nQueries));
  ie.prepare(ctx(info.nTargets));
  const pw = recipe.loss.pairwise;
  assert(pw !== null, () => "FmRecall: fused training needs a pairwise loss");
  const sgd = o.optimizer.sgd;
  assert(sgd !== null, () => "FmRecall: fused training needs plain SGD");
  const alias = new AliasTable(neg.prob);
  const logQ = o.logQ === true ? logQTable(neg.prob, W > 0) : null;
  const alloc = (n: number) => (W > 0 ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n));
  let q = alloc(Math.ceil(recipe.positives.epochSize * 1.2) + B);
  let t = alloc(q.length);
  let pool: WorkerPool<FmHogwildEpoch> | null = null;
  if (W > 0) {
    assert(
      pw.source !== undefined,
      () => "FmRecall: this loss cannot be rebuilt in a worker; use workers: 0",
    );
    const init: FmHogwildInit = {
      user: tables(qe),
      item: tables(ie),
      d: qe.d,
      l2: sgd.l2,
      negPerRow: neg.count,
      prob: neg.prob,
      drop: qe.dropout(),
      logQ,
      loss: pw.source,
    };
    pool = await WorkerPool.start<FmHogwildEpoch>(workerUrl("./fm.worker", import.meta.url), W, init);
  }
  const history: EpochRecord[] = [];
  const sc = new FmScratch(qe.d);
  const t0 = performance.now();
  // Learning rate of epoch e: lr₀·lrDecayᵉ⁻¹, times 1 − (e − 1)/epochs under the linear schedule
  // (word2vec's: steps shrink to lr₀/epochs so the last epochs average out the per-triple noise).
  let decay = 1;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const te = performance.now();
      const lr = sgd.lr * decay * (o.lrSchedule === "linear" ? 1 - (epoch - 1) / epochs : 1);
      recipe.positives.startEpoch(rng);
      let n = 0;
      for (;;) {
        if (n + B > q.length) {
          const q2 = alloc(q.length * 2);
          const t2 = alloc(q.length * 2);
          q2.set(q);
          t2.set(t);
          q = q2;
          t = t2;
        }
        const got = recipe.positives.nextInto(rng, { q: q.subarray(n), t: t.subarray(n) }, B);
        if (got === 0) break;
        n += got;
      }
      let lossSum = 0;
      if (W === 0) {
        lossSum = fmPairwiseSgdRange(
          tables(qe),
          tables(ie),
          qe.d,
          lr,
          sgd.l2,
          neg.count,
          alias,
          pw,
          q,
          t,
          0,
          n,
          rng,
          sc,
          qe.dropout(),
          logQ,
        );
      } else {
        const base = rng.nextU32();
        const qq = q;
        const tt = t;
        const replies = await (pool as WorkerPool<FmHogwildEpoch>).all<{ loss: number }>((i) => ({
          q: qq,
          t: tt,
          from: Math.floor((i * n) / W),
          to: Math.floor(((i + 1) * n) / W),
          seed: (base + i) >>> 0,
          lr,
        }));
        lossSum = replies.reduce((s, m) => s + m.loss, 0);
      }
      const seconds = (performance.now() - te) / 1000;
      const rec = {
        epoch,
        loss: lossSum / Math.max(1, n),
        seconds,
        samplesPerSec: (n * neg.count) / seconds,
      };
      decay *= o.lrDecay ?? 1;
      const metric = await o.onEpoch?.({
        ...rec,
        epochs,
        vectors: () => ({ dim: qe.dim, queries: qe.exportAll(), items: ie.exportAll() }),
      });
      history.push(metric === undefined ? rec : { ...rec, metric });
      o.onProgress?.({ epoch, epochs, done: n, total: n, samplesPerSec: rec.samplesPerSec, loss: rec.loss });
    }
  } finally {
    await pool?.close();
  }
  return {
    info,
    report: {
      path: "fm-fused-pairwise-sgd",
      workers: W,
      history,
      bestEpoch: epochs,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}
