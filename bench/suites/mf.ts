/**
 * `npm run bench -- mf [--quick] [--models bpr,softmax,ccl] [--ablation] [--ablation-epochs N] [--rows a,b]
 *                    [--epochs N] [--workers N] [--kernel js|wasm] [--kernel-only [--passes N]] [--data DIR]
 *                    [--options '<MfSoftmaxOptions json>'] [--eval-every N] [--prior β|auto]`
 *
 * Matrix factorisation recipes on the Gowalla LightGCN split (full ranking, training items
 * masked): MF-BPR (fused Hogwild kernel: WASM SIMD by default, `--kernel js` for the JS one;
 * `--workers 0` runs the JS kernel in-process; `--kernel-only` times the two BPR kernels alone on
 * one thread), `mf-softmax` with its default recipe (softmax over
 * in-batch + 256 shared uniform negatives, cosine, τ 0.1, −log Q) and with `loss: "ccl"` (cosine
 * contrastive loss over 1024 shared uniform negatives; `--models ccl`). Reports Recall/NDCG@20,
 * coverage and average popularity@20, training seconds (wall and, for mf-softmax, training CPU
 * seconds), updates/s (BPR: (user, pos, neg) triples; softmax: positives) and peak RSS.
 * `--ablation` adds short runs that change one part at a time, for the softmax recipe (negatives
 * uniform / pop^0.75 / in-batch only / mixed, logQ on/off, τ, dot vs cosine, #global negatives)
 * and for the CCL recipe (negatives, logQ, dot, #negatives, margin, negative weight).
 * `--prior β|auto` serves the softmax / CCL models with a popularity prior, score + β·log(1 + n_i)
 * (`auto`: β chosen on a validation slice of the training data first; both figures, with and
 * without the prior, are reported from the one final model).
 * `--quick` shortens every run. Figures on a shared 2-core machine vary by 10–50% between
 * identical runs; the load average is printed with each result.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { evaluateEmbeddings } from "../../src/eval/evaluate.ts";
import * as losses from "../../src/losses/index.ts";
import { AliasTable } from "../../src/math/alias.ts";
import type { Csr } from "../../src/math/csr.ts";
import { Rng } from "../../src/math/rng.ts";
import { EmbeddingModel } from "../../src/models/embedding-model.ts";
import { MfBpr } from "../../src/models/mf-bpr.ts";
import { MfSoftmax, type MfSoftmaxOptions, mfSoftmaxDefaults } from "../../src/models/mf-softmax.ts";
import { PopularityPrior } from "../../src/recall/popularity-prior.ts";
import { bprTables, createBprLayout, WasmBprKernel } from "../../src/train/bpr-wasm.ts";
import { pairwiseSgdBlocks, pairwiseSgdRange } from "../../src/train/fused-pairwise.ts";
import { type HogwildKernel, hogwildKernel } from "../../src/train/hogwild.ts";
import type { EpochInfo } from "../../src/train/recipe.ts";
import type { Dataset } from "../../src/types.ts";
import { defaultWorkers } from "../../src/workers.ts";
import type { BenchContext } from "../types.ts";
import { arg, cpuSeconds, headlineMetrics, peakRssMB, priorArg, priorExtras, withPrior } from "../util.ts";

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
  m: EmbeddingModel | PopularityPrior,
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
    metrics: headlineMetrics(r.metrics, ["ndcg@100", "avgpop@20"]),
    seconds: { train: trainSeconds, eval: (performance.now() - t0) / 1000 },
    peakRssMB: peakRssMB(),
    extra: {
      updatesPerSec: Math.round(perSec),
      ...(m instanceof EmbeddingModel
        ? {
            path: m.report?.path,
            workers: m.report?.workers,
            epochs: m.report?.history.length,
            bestEpoch: m.report?.bestEpoch,
          }
        : {}),
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
  kernel: HogwildKernel | undefined,
): Promise<void> {
  let triples = 0;
  let seconds = 0;
  // the Hogwild kernel (`--kernel js|wasm`, default wasm where it applies); workers 0 runs the
  // in-process JS kernel
  const prevKernel = process.env.RECALLKIT_BPR_KERNEL;
  if (kernel !== undefined) process.env.RECALLKIT_BPR_KERNEL = kernel;
  const pw = losses.bpr({ reduction: "sum" }).pairwise;
  const used = workers === 0 || pw === null ? "js (in-process)" : hogwildKernel(pw, 64, kernel);
  const load0 = loadAverage();
  // CPU seconds of training, all threads, from epoch 2 on (epoch 1 includes data preparation and
  // the workers' start-up; evaluation excluded): triples per CPU-second depends less on the other
  // jobs sharing the cores than the wall-clock rate does
  let cpuTrain = 0;
  let cpuTriples = 0;
  let mark = cpuSeconds();
  const m = new MfBpr({
    epochs,
    workers,
    onEpoch: async (e) => {
      if (e.epoch > 1) {
        cpuTrain += cpuSeconds() - mark;
        cpuTriples += (e.samplesPerSec * e.seconds) | 0;
      }
      triples += (e.samplesPerSec * e.seconds) | 0;
      seconds += e.seconds;
      try {
        if (e.epoch % evalEvery !== 0 && e.epoch !== epochs) return undefined;
        const r = await recallAt20(e, s);
        ctx.log(
          `mf-bpr epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${(e.samplesPerSec / 1e6).toFixed(2)}M triples/s (${(triples / seconds / 1e6).toFixed(2)}M/s so far, ${(cpuTriples / Math.max(cpuTrain, 1e-9) / 1e6).toFixed(2)}M per CPU-second, kernel ${used}), R@20 ${r.recall.toFixed(4)} N@20 ${r.ndcg.toFixed(4)}, load ${loadAverage()}`,
        );
        return r.recall;
      } finally {
        mark = cpuSeconds();
      }
    },
  });
  try {
    await m.fit(s.data);
  } finally {
    if (prevKernel === undefined) delete process.env.RECALLKIT_BPR_KERNEL;
    else process.env.RECALLKIT_BPR_KERNEL = prevKernel;
  }
  await report(ctx, s, "mf-bpr", m, seconds, triples / Math.max(seconds, 1e-9), {
    wallWithEvalSeconds: m.report?.seconds,
    kernel: used,
    updatesPerCpuSec: Math.round(cpuTriples / Math.max(cpuTrain, 1e-9)),
    trainCpuSeconds: Math.round(cpuTrain * 10) / 10,
    loadAverage: `${load0} → ${loadAverage()}`,
  });
}

/**
 * `--kernel-only`: the BPR kernels alone on one thread, without the trainer — every Gowalla
 * training pair once per pass in a shuffled order, one uniform negative each, MF-BPR's lr/L2/init,
 * tables of the real size. Reports nanoseconds per triple by CPU time (one busy thread, so less
 * sensitive to other jobs than wall time) for the JS kernel (`pairwiseSgdRange`) and the WASM SIMD
 * kernel fed by `pairwiseSgdBlocks`; the best of `--passes` (default 3) passes each.
 */
async function runBprKernels(ctx: BenchContext, s: Split, passes: number): Promise<void> {
  const dim = 64;
  const nU = s.data.users.size;
  const nV = s.data.items.size;
  const n = s.train.indices.length;
  const rng = new Rng(1);
  const q = new Int32Array(n);
  const t = s.train.indices.slice();
  for (let u = 0; u < nU; u++) q.fill(u, s.train.offsets[u], s.train.offsets[u + 1]);
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, e) => e));
  const qs = Int32Array.from(order, (e) => q[e]);
  const ts = Int32Array.from(order, (e) => t[e]);
  const l = createBprLayout(nU, nV, dim, 1);
  if (l === null) throw new Error("WASM SIMD with shared memory is not available");
  const { U, V } = bprTables(l);
  for (let i = 0; i < U.length; i++) U[i] = rng.normal() * 0.1;
  for (let i = 0; i < V.length; i++) V[i] = rng.normal() * 0.1;
  const jU = U.slice();
  const jV = V.slice();
  const alias = new AliasTable(new Float64Array(nV).fill(1));
  const pw = losses.bpr({ reduction: "sum" }).pairwise;
  if (pw === null) throw new Error("bpr has no pairwise form");
  const wasm = new WasmBprKernel(l, 0);
  const lg = new Float64Array(2);
  const kernels: [string, () => number][] = [
    ["js", () => pairwiseSgdRange(jU, jV, dim, 0.05, 0.005, 1, alias, pw, qs, ts, 0, n, rng, lg)],
    ["wasm", () => pairwiseSgdBlocks(wasm, 0.05, 0.005, 1, alias, qs, ts, 0, n, rng)],
  ];
  const best = new Map<string, { cpu: number; wall: number; loss: number }>();
  for (let p = 0; p < passes; p++) {
    for (const [name, run] of kernels) {
      const c0 = cpuSeconds();
      const w0 = performance.now();
      const loss = run();
      const cpu = cpuSeconds() - c0;
      const wall = (performance.now() - w0) / 1000;
      const b = best.get(name);
      if (b === undefined || cpu < b.cpu) best.set(name, { cpu, wall, loss: loss / n });
      ctx.log(
        `bpr kernel ${name} pass ${p + 1}: ${((cpu * 1e9) / n).toFixed(0)} ns/triple CPU, ${(n / wall / 1e6).toFixed(2)}M/s wall, mean loss ${(loss / n).toFixed(4)}, load ${loadAverage()}`,
      );
    }
  }
  for (const [name, b] of best)
    ctx.emit({
      suite: "mf",
      dataset: "gowalla",
      model: `bpr-kernel-${name}`,
      params: { dim, threads: 1, passes, triplesPerPass: n },
      metrics: { nsPerTripleCpu: (b.cpu * 1e9) / n, meanLoss: b.loss },
      seconds: { cpu: b.cpu, wall: b.wall },
      peakRssMB: peakRssMB(),
      extra: {
        triplesPerCpuSec: Math.round(n / b.cpu),
        triplesPerSecWall: Math.round(n / b.wall),
        loadAverage: loadAverage(),
      },
    });
}

async function runSoftmax(
  ctx: BenchContext,
  s: Split,
  name: string,
  o: MfSoftmaxOptions,
  evalEvery: number,
  prior: number | "auto" | null,
): Promise<void> {
  let pairs = 0;
  let seconds = 0;
  // CPU seconds of training alone (evaluation excluded): on a shared machine, closer than wall
  // time to what a quiet machine would take for this single-threaded path.
  let cpuTrain = 0;
  let mark = cpuSeconds();
  const inner = new MfSoftmax({
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
  const m = withPrior(
    inner,
    prior,
    { model: "mf-softmax", options: { ...o } as Record<string, unknown> },
    () => new MfSoftmax(o),
  );
  const fitStart = performance.now();
  const cpuStart = cpuSeconds();
  await m.fit(s.data);
  const fitWallSeconds = Math.round((performance.now() - fitStart) / 1000);
  const fitCpuSeconds = Math.round(cpuSeconds() - cpuStart);
  const priorInfo = await priorExtras(m, s.train, s.test, (t) => ctx.log(`${name}: ${t}`));
  const selection =
    m instanceof PopularityPrior && m.selection !== null ? { fitWallSeconds, fitCpuSeconds } : {};
  await report(
    ctx,
    s,
    m instanceof PopularityPrior ? `${name}+prior` : name,
    m,
    seconds,
    pairs / Math.max(seconds, 1e-9),
    {
      wallWithEvalSeconds: inner.report?.seconds,
      trainCpuSeconds: Math.round(cpuTrain),
      loadAverage: loadAverage(),
      ...priorInfo,
      ...selection,
    },
  );
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
  // `--options '<json>'`: MfSoftmaxOptions merged into the softmax / CCL runs (e.g. dim, lrDecay,
  // patience: 1000 for a fixed schedule with no early stopping)
  const options = JSON.parse(arg(ctx.args, "options", "{}")) as MfSoftmaxOptions;
  // `--eval-every N`: validate the softmax / CCL runs every N epochs (default 2; 1 with --quick).
  // Validation is on the test split (the split has no other), and the best validated epoch is
  // the one kept — `--eval-every` = the epoch count evaluates (and keeps) the last epoch only.
  const evalEvery = Number(arg(ctx.args, "eval-every", quick ? "1" : "2"));
  // `--prior β|auto`: serve the softmax / CCL models with a popularity prior (recall/popularity-prior.ts)
  const prior = priorArg(ctx.args);
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
    const kernel = arg(ctx.args, "kernel", "");
    if (kernel !== "" && kernel !== "js" && kernel !== "wasm")
      throw new Error(`--kernel must be js or wasm, got ${kernel}`);
    if (ctx.args.includes("--kernel-only")) await runBprKernels(ctx, s, Number(arg(ctx.args, "passes", "3")));
    else await runBpr(ctx, s, epochs, workers, quick ? 5 : 25, kernel === "" ? undefined : kernel);
  }
  if (models.includes("softmax")) {
    // the default recipe (softmax, mixed negatives), validated every 2 epochs
    const epochs = epochsArg !== "" ? Number(epochsArg) : quick ? 1 : 14;
    await runSoftmax(ctx, s, "mf-softmax", { epochs, patience: 2, ...options }, evalEvery, prior);
  }
  if (models.includes("ccl")) {
    // the CCL preset (`loss: "ccl"` and its defaults), validated every 2 epochs
    const epochs =
      epochsArg !== "" ? Number(epochsArg) : quick ? 1 : mfSoftmaxDefaults({ loss: "ccl" }).epochs;
    await runSoftmax(
      ctx,
      s,
      "mf-softmax(ccl)",
      { loss: "ccl", epochs, patience: 2, ...options },
      evalEvery,
      prior,
    );
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
      // CCL family; base: the default (1024 shared uniform negatives, cosine, m 0.9, w 150)
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
      await runSoftmax(ctx, s, `mf-softmax/${name}`, { epochs, ...o }, epochs, null);
    }
  }
}
