/**
 * `npm run bench -- two-tower [--part ml100k|gowalla|ablation|speed] [--epochs N] [--configs a,b] [--dataset ml-100k|gowalla]
 *                           [--options '<TwoTowerOptions json>'] [--prior β|auto] [--keep best|last]`
 *
 * Two-tower retrieval (issue 6, spec §5.5).
 * - ml100k: the TensorFlow Recommenders retrieval tutorial's protocol — all 100k ratings are
 *   positives, a global random 80k/20k split (seed 42), "factorized_top_k/top_100_categorical_accuracy"
 *   = share of test ratings whose movie is in the user's top 100 over all 1,682 movies, seen
 *   movies NOT excluded (TFRS: ID-only 0.2334, deeper feature model 0.29); plus our full-ranking
 *   Recall/NDCG@20 with training items masked, coverage and average popularity.
 * - gowalla: the LightGCN split, ID + history features; Recall/NDCG@20 each epoch, samples/s, epoch time;
 *   `--prior β|auto` serves the model with a popularity prior (auto: β chosen on validation, as
 *   the mf suite does), and the scores without it are reported beside. Each epoch is scored on the
 *   test split; `--keep best` (default) keeps the best-scoring epoch, `--keep last` the last one.
 * - ablation: one part changed at a time (logQ, τ, in-batch vs mixed, cosine vs dot, pooling),
 *   Recall@20, coverage@20 and avgpop@20 beside each other (on --dataset, default ml-100k).
 * - speed: one Gowalla epoch, samples/s.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { loadMovieLens } from "../../src/data/movielens.ts";
import { evaluateEmbeddings } from "../../src/eval/evaluate.ts";
import { Gemm } from "../../src/math/gemm-wasm.ts";
import { Rng } from "../../src/math/rng.ts";
import { TopK, TopKHeap, topKRowInto } from "../../src/math/topk.ts";
import { TwoTower, type TwoTowerOptions } from "../../src/models/two-tower.ts";
import type { Embeddings } from "../../src/recommender.ts";
import type { EpochInfo } from "../../src/train/recipe.ts";
import type { Dataset, Interactions } from "../../src/types.ts";
import type { BenchContext } from "../types.ts";
import { arg, headlineMetrics, peakRssMB, priorArg, priorExtras, withPrior } from "../util.ts";

function subset(log: Interactions, rows: Int32Array): Interactions {
  const i32 = (a: Int32Array | null) => (a === null ? null : Int32Array.from(rows, (r) => a[r]));
  return {
    length: rows.length,
    users: Int32Array.from(rows, (r) => log.users[r]),
    items: Int32Array.from(rows, (r) => log.items[r]),
    weights: log.weights === null ? null : Float32Array.from(rows, (r) => (log.weights as Float32Array)[r]),
    ts: log.ts === null ? null : Float64Array.from(rows, (r) => (log.ts as Float64Array)[r]),
    events: i32(log.events),
    eventNames: log.eventNames,
    sessions: i32(log.sessions),
  };
}

/** TFRS: `shuffled = ratings.shuffle(100_000, seed=42)`; train = first 80k, test = last 20k. */
function tfrsSplit(ds: Dataset): Dataset {
  const n = ds.train.length;
  const order = new Rng(42).shuffle(Int32Array.from({ length: n }, (_, e) => e));
  const nTrain = Math.round(n * 0.8);
  return {
    ...ds,
    train: subset(ds.train, order.slice(0, nTrain)),
    test: subset(ds.train, order.slice(nTrain)),
  };
}

/** Share of test interactions (u, i) with i in u's top-k over all items, nothing excluded (TFRS factorized_top_k). */
function factorizedTopK(
  users: Float32Array,
  items: Float32Array,
  dim: number,
  test: Interactions,
  k: number,
): number {
  const nItems = items.length / dim;
  const nUsers = users.length / dim;
  const gemm = new Gemm();
  const byUser = userItemCsr(test, nUsers, nItems);
  const scores = new Float32Array(nItems);
  const heap = new TopKHeap(k);
  const top = new TopK(1, k);
  let hits = 0;
  let total = 0;
  const inTop = new Uint8Array(nItems);
  for (let u = 0; u < nUsers; u++) {
    const a = byUser.offsets[u];
    const b = byUser.offsets[u + 1];
    if (a === b) continue;
    gemm.nt(users, u, 1, items, 0, nItems, dim, scores, 0, nItems);
    topKRowInto(scores, 0, nItems, null, 0, 0, heap, top, 0);
    for (let j = 0; j < top.counts[0]; j++) inTop[top.ids[j]] = 1;
    for (let e = a; e < b; e++) {
      const w = byUser.values === null ? 1 : byUser.values[e];
      total += w;
      if (inTop[byUser.indices[e]]) hits += w;
    }
    for (let j = 0; j < top.counts[0]; j++) inTop[top.ids[j]] = 0;
  }
  return hits / total;
}

async function fullRanking(m: TwoTower, data: Dataset, ks: number[]): Promise<Record<string, number>> {
  const nU = data.users.size;
  const nI = data.items.size;
  const train = userItemCsr(data.train, nU, nI);
  const test = userItemCsr(data.test as Interactions, nU, nI);
  const r = await evaluateEmbeddings(m.embeddings(), train, test, { ks });
  return r.metrics;
}

const ML_CONFIGS: Record<string, TwoTowerOptions> = {
  // TFRS basic retrieval: ids only
  "id-only": { pooling: "none", userAttributes: [], itemAttributes: [], layers: [] },
  // user id + age/gender/occupation + mean of history; item id + genre + year; one hidden layer
  features: { idDropout: 0.2 },
  "features-attention": { idDropout: 0.2, pooling: "attention", attentionQuery: "profile" },
};

async function runMl(ctx: BenchContext): Promise<void> {
  const dir = join(ctx.dataDir ?? "", "ml-100k");
  const ds = tfrsSplit(await loadMovieLens(dir));
  const epochs = Number(arg(ctx.args, "epochs", "20"));
  const names = arg(ctx.args, "configs", Object.keys(ML_CONFIGS).join(",")).split(",");
  for (const name of names) {
    const base = ML_CONFIGS[name];
    if (base === undefined) throw new Error(`unknown config ${name}`);
    const t0 = performance.now();
    const m = new TwoTower({ epochs, batchSize: 256, ...base });
    await m.fit(ds);
    const trainS = (performance.now() - t0) / 1000;
    const e = m.embeddings();
    const top100 = factorizedTopK(e.users, e.items, e.dim, ds.test as Interactions, 100);
    const full = await fullRanking(m, ds, [20, 100]);
    ctx.emit({
      suite: "two-tower",
      dataset: "ml-100k (TFRS 80k/20k random split)",
      model: `two-tower/${name}`,
      params: m.params(),
      metrics: {
        factorized_top_100: top100,
        "recall@20": full["recall@20"],
        "ndcg@20": full["ndcg@20"],
        "recall@100": full["recall@100"],
        "coverage@20": full["coverage@20"],
        "avgpop@20": full["avgpop@20"],
      },
      seconds: { train: trainS },
      peakRssMB: peakRssMB(),
      extra: { epochs, loadavg: loadavg() },
    });
  }
}

function loadavg(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim();
  } catch {
    return "n/a";
  }
}

async function loadGowalla(ctx: BenchContext): Promise<Dataset> {
  return loadLightGcn(join(ctx.dataDir ?? "", "gowalla"));
}

async function runGowalla(ctx: BenchContext, speedOnly: boolean): Promise<void> {
  let ds = await loadGowalla(ctx);
  // --rows N (speed probes): train on the first N rows of the log only
  const rows = Number(arg(ctx.args, "rows", "0"));
  if (rows > 0)
    ds = {
      ...ds,
      train: subset(
        ds.train,
        Int32Array.from({ length: rows }, (_, e) => e),
      ),
    };
  const epochs = speedOnly ? 1 : Number(arg(ctx.args, "epochs", "10"));
  const extra = JSON.parse(arg(ctx.args, "options", "{}")) as TwoTowerOptions;
  // `--keep last`: the model after the last epoch, not the epoch that scored best on the test split
  const keepLast = arg(ctx.args, "keep", "best") === "last";
  const nU = ds.users.size;
  const nI = ds.items.size;
  const train = userItemCsr(ds.train, nU, nI);
  const test = userItemCsr(ds.test as Interactions, nU, nI);
  const perEpoch: {
    epoch: number;
    seconds: number;
    samplesPerSec: number;
    cpuSeconds: number;
    samplesPerCpuSecond: number;
    recall20?: number;
  }[] = [];
  // CPU time of the training loop (one thread), which a shared machine's load does not inflate
  let cpuMark = process.cpuUsage();
  const cpuSince = (m: NodeJS.CpuUsage) => {
    const d = process.cpuUsage(m);
    return (d.user + d.system) / 1e6;
  };
  const t0 = performance.now();
  const options: TwoTowerOptions = {
    epochs,
    batchSize: 1024,
    userAttributes: [],
    itemAttributes: [],
    ...extra,
  };
  const inner = new TwoTower({
    ...options,
    onProgress: (p) =>
      ctx.log(
        `epoch ${p.epoch} ${p.done}/${p.total} ${Math.round(p.samplesPerSec)}/s loss ${p.loss.toFixed(4)}`,
      ),
    onEpoch: async (e: EpochInfo) => {
      const cpu = cpuSince(cpuMark);
      const rec = {
        epoch: e.epoch,
        seconds: e.seconds,
        samplesPerSec: Math.round(e.samplesPerSec),
        cpuSeconds: Math.round(cpu * 10) / 10,
        samplesPerCpuSecond: Math.round((e.samplesPerSec * e.seconds) / cpu),
      };
      if (speedOnly) {
        perEpoch.push(rec);
        cpuMark = process.cpuUsage();
        return undefined;
      }
      const v = e.vectors();
      const r = await evaluateEmbeddings({ dim: v.dim, users: v.queries, items: v.items }, train, test, {
        ks: [20],
      });
      cpuMark = process.cpuUsage();
      perEpoch.push({ ...rec, recall20: r.metrics["recall@20"] });
      ctx.log(`epoch ${e.epoch}: recall@20 ${r.metrics["recall@20"].toFixed(4)} (${e.seconds.toFixed(1)} s)`);
      return keepLast ? undefined : r.metrics["recall@20"];
    },
  });
  // `--prior β|auto`: served with a popularity prior (bench/util.ts withPrior)
  const m = withPrior(
    inner,
    speedOnly ? null : priorArg(ctx.args),
    { model: "two-tower", options: { ...options } as Record<string, unknown> },
    () => new TwoTower(options),
  );
  await m.fit(ds);
  const trainS = (performance.now() - t0) / 1000;
  const r = await evaluateEmbeddings((m.embeddings as () => Embeddings)(), train, test, { ks: [20, 100] });
  const prior = await priorExtras(m, train, test, ctx.log);
  ctx.emit({
    suite: "two-tower",
    dataset: "gowalla",
    model: `${speedOnly ? "two-tower/speed" : "two-tower"}${m === inner ? "" : "+prior"}`,
    params: inner.params(),
    metrics: headlineMetrics(r.metrics, ["avgpop@20"]),
    seconds: { train: trainS },
    peakRssMB: peakRssMB(),
    extra: {
      perEpoch,
      bestEpoch: inner.report?.bestEpoch,
      path: inner.report?.path,
      loadavg: loadavg(),
      ...prior,
    },
  });
}

const ABLATIONS: Record<string, TwoTowerOptions> = {
  default: {},
  "logQ-off": { logQ: false },
  "tau-0.05": { temperature: 0.05 },
  "tau-0.2": { temperature: 0.2 },
  "tau-0.5": { temperature: 0.5 },
  "tau-1": { temperature: 1 },
  mixed: { negatives: "mixed", nGlobal: 1024 },
  "mixed-cache-epoch": { negatives: "mixed", nGlobal: 1024, negativeCache: true, cacheRefresh: 0 },
  "mixed-cache-20": { negatives: "mixed", nGlobal: 1024, negativeCache: true, cacheRefresh: 20 },
  streamingQ: { estimator: "streaming" },
  dot: { score: "dot" },
  "attention-profile": { pooling: "attention", attentionQuery: "profile" },
  "attention-last": { pooling: "attention", attentionQuery: "last" },
};

async function runAblation(ctx: BenchContext): Promise<void> {
  const dataset = arg(ctx.args, "dataset", "ml-100k");
  const ds =
    dataset === "gowalla"
      ? await loadGowalla(ctx)
      : tfrsSplit(await loadMovieLens(join(ctx.dataDir ?? "", "ml-100k")));
  const epochs = Number(arg(ctx.args, "epochs", dataset === "gowalla" ? "3" : "20"));
  const base = JSON.parse(arg(ctx.args, "options", "{}")) as TwoTowerOptions;
  const names = arg(ctx.args, "configs", Object.keys(ABLATIONS).join(",")).split(",");
  for (const name of names) {
    const o = ABLATIONS[name];
    if (o === undefined) throw new Error(`unknown ablation ${name}`);
    const t0 = performance.now();
    const m = new TwoTower({
      epochs,
      batchSize: dataset === "gowalla" ? 1024 : 256,
      ...(dataset === "gowalla" ? { userAttributes: [], itemAttributes: [] } : { idDropout: 0.2 }),
      ...base,
      ...o,
    });
    await m.fit(ds);
    const trainS = (performance.now() - t0) / 1000;
    const full = await fullRanking(m, ds, [20]);
    const e = m.embeddings();
    const metrics: Record<string, number> = {
      "recall@20": full["recall@20"],
      "ndcg@20": full["ndcg@20"],
      "coverage@20": full["coverage@20"],
      "avgpop@20": full["avgpop@20"],
    };
    if (dataset !== "gowalla")
      metrics.factorized_top_100 = factorizedTopK(e.users, e.items, e.dim, ds.test as Interactions, 100);
    ctx.emit({
      suite: "two-tower",
      dataset,
      model: `two-tower/ablation/${name}`,
      params: m.params(),
      metrics,
      seconds: { train: trainS },
      peakRssMB: peakRssMB(),
      extra: { epochs, loadavg: loadavg() },
    });
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const part = arg(ctx.args, "part", "ml100k");
  if (part === "ml100k") await runMl(ctx);
  else if (part === "gowalla") await runGowalla(ctx, false);
  else if (part === "speed") await runGowalla(ctx, true);
  else if (part === "ablation") await runAblation(ctx);
  else throw new Error(`--part must be ml100k, gowalla, ablation or speed, got ${part}`);
}
