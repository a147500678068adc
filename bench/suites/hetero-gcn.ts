/**
 * `npm run bench -- hetero-gcn [--models pinsage,multibisage,graphtr] [--epochs N] [--batch N]
 *  [--lr X] [--item-fields genre,year] [--user-fields age,gender,occupation]
 *  [--neighbors importance|uniform] [--fanout N] [--eval-every N] [--seed S]`
 *
 * Heterogeneous GCN encoders (spec §5.6.3) against the homogeneous PinSage on ML-100k with its
 * side information (item genre and year; user age, gender, occupation), on the split and
 * evaluation of `recallkit eval --dataset ml-100k` (per-user random 80/20, seed 42; full ranking,
 * training items masked): Recall/NDCG @20 (and @100), training seconds (evaluation excluded),
 * peak RSS, load average. Models: `pinsage` (user–item graph only), `pinsage+genre` (genre values
 * as extra nodes of one graph), `multibisage` (one PinSage per relation, attention fusion),
 * `graphtr` (typed neighbours, per-type attention, FM pooling). All with the GCN recipe's softmax
 * (1024 shared uniform negatives, cosine, τ 0.1, −log Q), Adam, 10 epochs, batch 4096 by default.
 * `--eval-every N` logs Recall/NDCG @20 every N epochs (stderr); the reported model is always the
 * last epoch's (no selection on the test split).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveDataset } from "../../src/data/index.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { evaluate, evaluateEmbeddings } from "../../src/eval/evaluate.ts";
import type { EmbeddingModel } from "../../src/models/embedding-model.ts";
import { GraphTR, MultiBiSage } from "../../src/models/hetero-gcn.ts";
import { PinSage } from "../../src/models/pinsage.ts";
import type { TrainOptions } from "../../src/train/recipe.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB } from "../util.ts";

const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

export async function run(ctx: BenchContext): Promise<void> {
  const dataDir = arg(ctx.args, "data-dir", ctx.dataDir ?? "../shared/data");
  const data = await resolveDataset(arg(ctx.args, "data", join(dataDir, "ml-100k")));
  if (data.test === null) throw new Error("ml-100k: no test split");
  const nU = data.users.size;
  const nI = data.items.size;
  const train = userItemCsr(data.train, nU, nI);
  const test = userItemCsr(data.test, nU, nI);
  const itemFields = arg(ctx.args, "item-fields", [...data.itemAttributes.keys()].join(","));
  const userFields = arg(ctx.args, "user-fields", [...data.userAttributes.keys()].join(","));
  ctx.log(
    `${data.name}: ${nU} users × ${nI} items, ${data.train.length} train / ${data.test.length} test; item fields ${itemFields}; user fields ${userFields}; load ${load()}`,
  );
  const epochs = Number(arg(ctx.args, "epochs", "10"));
  const evalEvery = Number(arg(ctx.args, "eval-every", "0"));
  const common = {
    epochs,
    batchSize: Number(arg(ctx.args, "batch", "4096")),
    lr: Number(arg(ctx.args, "lr", "0.005")),
    seed: Number(arg(ctx.args, "seed", "42")),
    dim: 64,
    layers: 2,
  };
  const fanout = Number(arg(ctx.args, "fanout", "10"));
  const models = arg(ctx.args, "models", "pinsage,multibisage,graphtr")
    .split(",")
    .filter((m) => m !== "");
  for (const name of models) {
    let seconds = 0;
    const hooks: Pick<TrainOptions, "onEpoch"> = {
      onEpoch: async (e) => {
        seconds += e.seconds;
        if (evalEvery <= 0 || (e.epoch % evalEvery !== 0 && e.epoch !== epochs)) return undefined;
        const v = e.vectors();
        const r = await evaluateEmbeddings({ dim: v.dim, users: v.queries, items: v.items }, train, test, {
          ks: [20],
        });
        ctx.log(
          `${name} epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${e.seconds.toFixed(1)} s, R@20 ${r.metrics["recall@20"].toFixed(4)} N@20 ${r.metrics["ndcg@20"].toFixed(4)}, load ${load()}`,
        );
        // logged only: returning the metric would restore the best epoch, selected on the test split
        return undefined;
      },
    };
    let m: EmbeddingModel;
    if (name === "pinsage") m = new PinSage({ ...common, ...hooks, topT: 10 });
    else if (name === "pinsage+genre")
      m = new PinSage({ ...common, ...hooks, topT: 10, itemAttributes: ["genre"] });
    else if (name === "multibisage")
      m = new MultiBiSage({
        ...common,
        ...hooks,
        itemFields,
        userFields,
        neighbors: arg(ctx.args, "neighbors", "importance") as "importance" | "uniform",
        topT: 10,
        fanout,
      });
    else if (name === "graphtr") m = new GraphTR({ ...common, ...hooks, itemFields, userFields, fanout });
    else
      throw new Error(`hetero-gcn: unknown model "${name}" (pinsage, pinsage+genre, multibisage, graphtr)`);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await m.fit(data);
    const fitSeconds = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    // CPU-seconds of the fit (all threads, per-epoch evaluations included): less load-dependent than wall time
    const fitCpuSeconds = (c1.user + c1.system) / 1e6;
    const t1 = performance.now();
    const r = await evaluate(m, train, test, { ks: [20, 100] });
    ctx.emit({
      suite: "hetero-gcn",
      dataset: data.name,
      model: name,
      params: m.params(),
      metrics: {
        "recall@20": r.metrics["recall@20"],
        "ndcg@20": r.metrics["ndcg@20"],
        "recall@100": r.metrics["recall@100"],
      },
      seconds: {
        train: seconds,
        fit: fitSeconds,
        fitCpu: fitCpuSeconds,
        eval: (performance.now() - t1) / 1000,
      },
      peakRssMB: peakRssMB(),
      extra: { epochs: m.report?.history.length, bestEpoch: m.report?.bestEpoch, loadavg: load() },
    });
  }
}
