/**
 * `npm run bench -- mf [--quick] [--models bpr,softmax] [--ablation] [--epochs N] [--workers N] [--data DIR]`
 *
 * Matrix factorisation recipes on the Gowalla LightGCN split (full ranking, training items
 * masked): MF-BPR (fused Hogwild kernel) and MF with the spec's preferred recipe (mixed in-batch
 * + global negatives, cosine, τ, −log Q). Reports Recall/NDCG@20, training seconds, updates/s
 * (BPR: (user, pos, neg) triples; softmax: positives) and peak RSS. `--ablation` adds short
 * softmax runs that change one part at a time: negatives (uniform / pop^0.75 / in-batch only /
 * mixed), logQ on/off, τ, dot vs cosine, #global negatives. `--quick` shortens every run.
 * Figures on a shared 2-core machine vary by 10–50% between identical runs.
 */
import { join } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { evaluateEmbeddings } from "../../src/eval/evaluate.ts";
import type { Csr } from "../../src/math/csr.ts";
import type { EmbeddingModel } from "../../src/models/embedding-model.ts";
import { MfBpr } from "../../src/models/mf-bpr.ts";
import { MfSoftmax, type MfSoftmaxOptions } from "../../src/models/mf-softmax.ts";
import type { EpochInfo } from "../../src/train/recipe.ts";
import type { Dataset } from "../../src/types.ts";
import { defaultWorkers } from "../../src/workers.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB } from "../util.ts";

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
  const m = new MfSoftmax({
    ...o,
    onEpoch: async (e) => {
      pairs += (e.samplesPerSec * e.seconds) | 0;
      seconds += e.seconds;
      if (e.epoch % evalEvery !== 0 && e.epoch !== o.epochs) return undefined;
      const r = await recallAt20(e, s);
      ctx.log(
        `${name} epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${(e.samplesPerSec / 1e3).toFixed(1)}k pos/s, ${e.seconds.toFixed(0)} s, R@20 ${r.recall.toFixed(4)} N@20 ${r.ndcg.toFixed(4)}`,
      );
      return r.recall;
    },
  });
  await m.fit(s.data);
  await report(ctx, s, name, m, seconds, pairs / Math.max(seconds, 1e-9), {
    wallWithEvalSeconds: m.report?.seconds,
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
    const epochs = epochsArg !== "" ? Number(epochsArg) : quick ? 1 : 14;
    await runSoftmax(ctx, s, "mf-softmax", { epochs, patience: 2 }, quick ? 1 : 2);
  }
  if (ctx.args.includes("--ablation")) {
    const epochs = quick ? 1 : 3;
    const rows: [string, MfSoftmaxOptions][] = [
      ["negatives=in-batch", { nGlobal: 0 }],
      ["negatives=uniform(sampled softmax)", { inBatch: false }],
      ["negatives=pop^0.75(sampled softmax)", { inBatch: false, globalPower: 0.75 }],
      ["negatives=mixed(in-batch+uniform)", {}],
      ["negatives=mixed(in-batch+pop^0.75)", { globalPower: 0.75 }],
      ["logQ=off", { logQ: false }],
      ["tau=0.05", { temperature: 0.05 }],
      ["tau=0.2", { temperature: 0.2 }],
      ["score=dot", { score: "dot", temperature: 1 }],
      ["nGlobal=256", { nGlobal: 256 }],
      ["nGlobal=4096", { nGlobal: 4096 }],
    ];
    for (const [name, o] of rows) await runSoftmax(ctx, s, `mf-softmax/${name}`, { epochs, ...o }, epochs);
  }
}
