/**
 * `npm run bench -- mf [--quick] [--models bpr,softmax,ccl] [--ablation] [--ablation-epochs N] [--rows a,b]
 *                    [--epochs N] [--workers N] [--data DIR]`
 *
 * Matrix factorisation recipes on the Gowalla LightGCN split (full ranking, training items
 * masked): MF-BPR (fused Hogwild kernel), `mf-softmax` with its default recipe (softmax over
 * in-batch + 256 shared uniform negatives, cosine, τ 0.1, −log Q) and with `loss: "ccl"` (cosine
 * contrastive loss over 1024 shared uniform negatives; `--models ccl`). Reports Recall/NDCG@20,
 * coverage and average popularity@20, training seconds (wall and, for mf-softmax, training CPU
 * seconds), updates/s (BPR: (user, pos, neg) triples; softmax: positives) and peak RSS.
 * `--ablation` adds short runs that change one part at a time, for the softmax recipe (negatives
 * uniform / pop^0.75 / in-batch only / mixed, logQ on/off, τ, dot vs cosine, #global negatives)
 * and for the CCL recipe (negatives, logQ, dot, #negatives, margin, negative weight).
 * `--quick` shortens every run. Figures on a shared 2-core machine vary by 10–50% between
 * identical runs; the load average is printed with each result.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { evaluateEmbeddings } from "../../src/eval/evaluate.ts";
import type { Csr } from "../../src/math/csr.ts";
import type { EmbeddingModel } from "../../src/models/embedding-model.ts";
import { MfBpr } from "../../src/models/mf-bpr.ts";
import { MfSoftmax, type MfSoftmaxOptions, mfSoftmaxDefaults } from "../../src/models/mf-softmax.ts";
import type { EpochInfo } from "../../src/train/recipe.ts";
import type { Dataset } from "../../src/types.ts";
import { defaultWorkers } from "../../src/workers.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB } from "../util.ts";

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
}

interface Split {
  data: Dataset;
  train: Csr;
  test: Csr;
}

async function recallAt20(e: EpochInfo, s: Split): Promise<{ recall: number; ndcg: number }> {
  const v = e.vectors();
  const r = await evaluateEmbeddings({ dim: v.dim, users: v.queries, items: v.items }, s.train, s.test, {
    ks: [20],
  });
  return { recall: r.metrics["recall@20"], ndcg: r.metrics["ndcg@20"] };
}

async function report(
  ctx: BenchContext,
  s: Split,
  model: string,
  m: EmbeddingModel,
  trainSeconds: number,
  perSec: number,
  extra: Record<string, unknown>,
): Promise<void> {
  const t0 = performance.now();
  const v = m.embeddings();
  const r = await evaluateEmbeddings(v, s.train, s.test, { ks: [20, 100] });
  ctx.emit({
    suite: "mf",
    dataset: "gowalla",
    model,
    params: m.params(),
    metrics: {
      "recall@20": r.metrics["recall@20"],
      "ndcg@20": r.metrics["ndcg@20"],
      "recall@100": r.metrics["recall@100"],
      "ndcg@100": r.metrics["ndcg@100"],
      "coverage@20": r.metrics["coverage@20"],
      "avgpop@20": r.metrics["avgpop@20"],
    },
    seconds: { train: trainSeconds, eval: (performance.now() - t0) / 1000 },
    peakRssMB: peakRssMB(),
    extra: {
      updatesPerSec: Math.round(perSec),
      path: m.report?.path,
      workers: m.report?.workers,
      epochs: m.report?.history.length,
      bestEpoch: m.report?.bestEpoch,
      ...extra,
    },
  });
}

async function runBpr(
  ctx: BenchContext,
  s: Split,
  epochs: number,
  workers: number,
  evalEvery: number,
): Promise<void> {
  let triples = 0;
  let seconds = 0;
  const m = new MfBpr({
    epochs,
    workers,
    onEpoch: async (e) => {
      triples += (e.samplesPerSec * e.seconds) | 0;
      seconds += e.seconds;
      if (e.epoch % evalEvery !== 0 && e.epoch !== epochs) return undefined;
      const r = await recallAt20(e, s);
      ctx.log(
        `mf-bpr epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${(e.samplesPerSec / 1e6).toFixed(2)}M triples/s, R@20 ${r.recall.toFixed(4)} N@20 ${r.ndcg.toFixed(4)}`,
      );
      return r.recall;
    },
  });
  await m.fit(s.data);
  await report(ctx, s, "mf-bpr", m, seconds, triples / Math.max(seconds, 1e-9), {
    wallWithEvalSeconds: m.report?.seconds,
  });
}

async function runSoftmax(
  ctx: BenchContext,
  s: Split,
  name: string,
  o: MfSoftmaxOptions,
  evalEvery: number,
): Promise<void> {
  let pairs = 0;
  let seconds = 0;
  // CPU seconds of training alone (evaluation excluded): on a shared machine, closer than wall
  // time to what a quiet machine would take for this single-threaded path.
  let cpuTrain = 0;
  let mark = cpuSeconds();
  const m = new MfSoftmax({
    ...o,
    onEpoch: async (e) => {
      cpuTrain += cpuSeconds() - mark;
      pairs += (e.samplesPerSec * e.seconds) | 0;
      seconds += e.seconds;
      try {
        if (e.epoch % evalEvery !== 0 && e.epoch !== o.epochs) return undefined;
        const r = await recallAt20(e, s);
        ctx.log(
          `${name} epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${(e.samplesPerSec / 1e3).toFixed(1)}k pos/s, ${e.seconds.toFixed(0)} s (training CPU ${cpuTrain.toFixed(0)} s so far), R@20 ${r.recall.toFixed(4)} N@20 ${r.ndcg.toFixed(4)}, load ${loadAverage()}`,
        );
        return r.recall;
      } finally {
        mark = cpuSeconds();
      }
    },
  });
  await m.fit(s.data);
  await report(ctx, s, name, m, seconds, pairs / Math.max(seconds, 1e-9), {
    wallWithEvalSeconds: m.report?.seconds,
    trainCpuSeconds: Math.round(cpuTrain),
    loadAverage: loadAverage(),
  });
}

export async function run(ctx: BenchContext): Promise<void> {
  const quick = ctx.args.includes("--quick");
  const dir = arg(
    ctx.args,
    "data",
    ctx.dataDir === undefined ? "../shared/data/gowalla" : join(ctx.dataDir, "gowalla"),
  );
  const models = arg(ctx.args, "models", "bpr,softmax").split(",");
  const workers = Number(arg(ctx.args, "workers", String(defaultWorkers())));
  const epochsArg = arg(ctx.args, "epochs", "");
  const data = await loadLightGcn(dir, { name: "gowalla" });
  if (data.test === null) throw new Error(`${dir}: no test.txt`);
  const nU = data.users.size;
  const nI = data.items.size;
  const s: Split = { data, train: userItemCsr(data.train, nU, nI), test: userItemCsr(data.test, nU, nI) };
  ctx.log(
    `gowalla: ${nU} users × ${nI} items, ${s.train.indices.length} train interactions; workers ${workers}`,
  );

  if (models.includes("bpr")) {
    const epochs = epochsArg !== "" ? Number(epochsArg) : quick ? 10 : 100;
    await runBpr(ctx, s, epochs, workers, quick ? 5 : 25);
  }
  if (models.includes("softmax")) {
    // the default recipe (softmax, mixed negatives), validated every 2 epochs
    const epochs = epochsArg !== "" ? Number(epochsArg) : quick ? 1 : 14;
    await runSoftmax(ctx, s, "mf-softmax", { epochs, patience: 2 }, quick ? 1 : 2);
  }
  if (models.includes("ccl")) {
    // the CCL preset (`loss: "ccl"` and its defaults), validated every 2 epochs
    const epochs =
      epochsArg !== "" ? Number(epochsArg) : quick ? 1 : mfSoftmaxDefaults({ loss: "ccl" }).epochs;
    await runSoftmax(ctx, s, "mf-softmax(ccl)", { loss: "ccl", epochs, patience: 2 }, quick ? 1 : 2);
  }
  if (ctx.args.includes("--ablation")) {
    // one change at a time from a base, each trained `--ablation-epochs` epochs (default 3) and
    // scored at the end; `--rows a,b` runs only rows whose name contains one of the strings
    const epochs = Number(arg(ctx.args, "ablation-epochs", quick ? "1" : "3"));
    const only = arg(ctx.args, "rows", "")
      .split(",")
      .filter((x) => x !== "");
    const sm: MfSoftmaxOptions = { loss: "softmax" };
    const cc: MfSoftmaxOptions = { loss: "ccl" };
    const rows: [string, MfSoftmaxOptions][] = [
      // softmax family; base: mixed (in-batch + 256 shared uniform), cosine, τ 0.1, −log Q
      ["softmax/negatives=in-batch", { ...sm, nGlobal: 0 }],
      ["softmax/negatives=uniform(sampled softmax)", { ...sm, inBatch: false }],
      ["softmax/negatives=pop^0.75(sampled softmax)", { ...sm, inBatch: false, globalPower: 0.75 }],
      ["softmax/negatives=mixed(in-batch+uniform) [base]", sm],
      ["softmax/negatives=mixed(in-batch+pop^0.75)", { ...sm, globalPower: 0.75 }],
      ["softmax/logQ=off", { ...sm, logQ: false }],
      ["softmax/tau=0.05", { ...sm, temperature: 0.05 }],
      ["softmax/tau=0.2", { ...sm, temperature: 0.2 }],
      ["softmax/score=dot(tau=1)", { ...sm, score: "dot", temperature: 1 }],
      ["softmax/nGlobal=1024", { ...sm, nGlobal: 1024 }],
      ["softmax/nGlobal=4096", { ...sm, nGlobal: 4096 }],
      // CCL family; base: the default (1024 shared uniform negatives, cosine, m 0.5, w 50)
      ["ccl [base]", cc],
      ["ccl/negatives=pop^0.75", { ...cc, globalPower: 0.75 }],
      ["ccl/negatives=mixed(in-batch+uniform)", { ...cc, inBatch: true }],
      ["ccl/logQ=on", { ...cc, logQ: true }],
      ["ccl/score=dot", { ...cc, score: "dot" }],
      ["ccl/nGlobal=256", { ...cc, nGlobal: 256 }],
      ["ccl/nGlobal=4096", { ...cc, nGlobal: 4096 }],
      ["ccl/margin=0.9,w=150", { ...cc, margin: 0.9, negativeWeight: 150 }],
      ["ccl/margin=0.3", { ...cc, margin: 0.3 }],
      ["ccl/w=150", { ...cc, negativeWeight: 150 }],
    ];
    for (const [name, o] of rows) {
      if (only.length > 0 && !only.some((x) => name.includes(x))) continue;
      await runSoftmax(ctx, s, `mf-softmax/${name}`, { epochs, ...o }, epochs);
    }
  }
}
