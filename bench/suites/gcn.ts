/**
 * `npm run bench -- gcn [--models lightgcn,lightgcn-bpr,pinsage,graphsage,graph-filter] [--epochs N] [--batch N]
 *  [--layers K] [--nglobal N] [--inbatch 0|1] [--lr X] [--lr-milestones E1,E2] [--tau X] [--topt T]
 *  [--eval-every N] [--spmm]
 *  [--prior β|auto] [--data DIR]`
 *  (`--prior`: the final model is also scored with a popularity prior, β given or chosen first on a
 *  validation slice of the training data; see recall/popularity-prior.ts)
 * `npm run bench -- gcn --inductive [--epochs N] [--seed S] [--withhold 0.1] [--test-users 0.2]
 *  [--id-dropout 0.5]`
 * PinSage at scale: `--throughput [--sample-batch 512] [--sampler-workers 1,2]` (walks, full-graph
 *  inference, sampler subgraphs/s inline and from worker threads), `--step-cost [--steps 6]` (CPU-s
 *  per training step, one pass per side vs joint), `--e2e [--e2e-users 6000] [--e2e-reps 1]`
 *  (producer/consumer vs inline sampling, end to end).
 *
 * GCN recall on the Gowalla LightGCN split (full ranking, training items masked, src/eval
 * evaluateEmbeddings): LightGCN (propagation only, encoders/lightgcn.ts) trained by the generic
 * trainer with the framework's sampled softmax (default) or the paper's BPR. Prints Recall/NDCG
 * @20 per evaluated epoch (stderr), then one JSON result per model with training seconds
 * (evaluation excluded), positives/s and peak RSS. `--spmm` times one propagation (K SpMMs over
 * the 70,839-node graph) with the WASM SIMD and JS kernels.
 *
 * `--inductive` (ML-100k, seeded): 10% of the items are withheld from training entirely (no
 * interactions, no genre edges); GraphSAGE is trained on the rest; at inference the withheld items
 * join the graph with their genre nodes and the interactions of the non-test users
 * (`inductiveEmbeddings`), and each test user (20% of users; her other interactions are her
 * context) ranks the withheld items only. HitRate@20 / Recall@20 against popularity of the
 * withheld items counted on the same inference-time edges, and random (20 / #withheld).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { loadMovieLens } from "../../src/data/movielens.ts";
import { GraphConv } from "../../src/encoders/graph-conv.ts";
import { PinSageCore } from "../../src/encoders/pinsage.ts";
import { evaluate, evaluateEmbeddings } from "../../src/eval/evaluate.ts";
import { buildBipartiteGraph } from "../../src/graph/bipartite.ts";
import { Propagation } from "../../src/graph/propagate.ts";
import type { Importance } from "../../src/graph/random-walk.ts";
import { fixedNeighbors, SubgraphScratch, sampleSubgraph } from "../../src/graph/subgraph.ts";
import type { Csr } from "../../src/math/csr.ts";
import { Rng } from "../../src/math/rng.ts";
import type { EmbeddingModel } from "../../src/models/embedding-model.ts";
import { LightGcn, type LightGcnModelOptions } from "../../src/models/lightgcn.ts";
import { GraphSage, PinSage, type PinSageModelOptions } from "../../src/models/pinsage.ts";
import { GraphFilter, type GraphFilterOptions } from "../../src/recall/graph-filter.ts";
import { popularityBias, selectPopularityPrior, withItemBias } from "../../src/recall/popularity-prior.ts";
import { adam } from "../../src/train/optimizers/adam.ts";
import { createProducer } from "../../src/train/subgraph-sampler.ts";
import type { Dataset, Interactions } from "../../src/types.ts";
import type { BenchContext } from "../types.ts";
import { arg, cpuSeconds, headlineMetrics, peakRssMB, priorArg } from "../util.ts";

const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

export async function run(ctx: BenchContext): Promise<void> {
  if (ctx.args.includes("--inductive")) return inductive(ctx);
  const dir = arg(
    ctx.args,
    "data",
    ctx.dataDir === undefined ? "../shared/data/gowalla" : join(ctx.dataDir, "gowalla"),
  );
  const data = await loadLightGcn(dir, { name: "gowalla" });
  if (data.test === null) throw new Error(`${dir}: no test.txt`);
  const nU = data.users.size;
  const nI = data.items.size;
  const train = userItemCsr(data.train, nU, nI);
  const test = userItemCsr(data.test, nU, nI);
  ctx.log(`gowalla: ${nU} users × ${nI} items, ${train.indices.length} train interactions; load ${load()}`);

  if (ctx.args.includes("--spmm")) {
    const g = buildBipartiteGraph(data.train, nU, nI);
    const x = Float32Array.from({ length: g.nNodes * 64 }, (_, t) => ((t * 7919) % 13) * 0.01);
    const out = new Float32Array(x.length);
    for (const kernel of ["auto", "js"] as const) {
      const p = new Propagation(g, 64, 3, { kernel });
      p.runInto(x, out); // warm-up
      const reps = 3;
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) p.runInto(x, out);
      const s = (performance.now() - t0) / 1000 / reps;
      ctx.emit({
        suite: "gcn",
        dataset: "gowalla",
        model: `propagation-${p.kernel}`,
        params: { dim: 64, layers: 3, nnz: g.indices.length },
        metrics: {},
        seconds: { propagation: s },
        peakRssMB: peakRssMB(),
        extra: { gflops: (2 * 3 * g.indices.length * 64) / s / 1e9, loadavg: load() },
      });
    }
  }

  if (ctx.args.includes("--throughput")) {
    // PinSage pieces on their own: importance neighbours, sampler, full-graph inference
    const g = buildBipartiteGraph(data.train, nU, nI);
    const core = new PinSageCore({ dim: 64, layers: 2, topT: 10 });
    const rng = new Rng(1);
    let t0 = performance.now();
    core.prepareGraph(g, rng);
    const walkSeconds = (performance.now() - t0) / 1000;
    core.table = Float32Array.from({ length: g.nNodes * 64 }, () => 0.1 * rng.normal());
    core.conv = new GraphConv(64, 64, 2, rng);
    t0 = performance.now();
    core.inferAll();
    const inferSeconds = (performance.now() - t0) / 1000;
    const scratch = new SubgraphScratch(g.nNodes, 10);
    const sampler = fixedNeighbors((core.importance as Importance).neighbors);
    const batch = new Int32Array(Number(arg(ctx.args, "sample-batch", "512")));
    let sub0 = 0;
    t0 = performance.now();
    const reps = 50;
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < batch.length; i++) batch[i] = rng.int(g.nNodes);
      sub0 += sampleSubgraph(batch, batch.length, 2, sampler, rng, scratch).layers[0].length;
    }
    const sampleSeconds = (performance.now() - t0) / 1000;
    // the producer (train/subgraph-sampler.ts) in worker threads: subgraphs/s with the consumer
    // only taking them (no training), the same 512-target batches
    const producerRates: Record<string, number> = {};
    for (const w of arg(ctx.args, "sampler-workers", "1,2").split(",").map(Number)) {
      const prod = createProducer({ nUsers: nU, nNodes: g.nNodes, layers: 2, sampler }, w);
      const prng = new Rng(7);
      const job = (id: number) => ({
        id,
        targets: Int32Array.from({ length: batch.length }, () => prng.int(g.nNodes)),
        seed: prng.nextU32(),
      });
      // warm-up: the workers boot (tsx) before the clock starts
      prod.submit(job(0));
      prod.wait(0);
      const tp = performance.now();
      for (let r = 1; r <= reps; r++) prod.submit(job(r));
      for (let r = 1; r <= reps; r++) prod.wait(r);
      producerRates[`workers${w}`] = reps / ((performance.now() - tp) / 1000);
      prod.close();
    }
    ctx.emit({
      suite: "gcn",
      dataset: "gowalla",
      model: "pinsage-throughput",
      params: {
        dim: 64,
        hidden: 64,
        layers: 2,
        topT: 10,
        walkSteps: 200,
        restart: 0.5,
        sampleBatch: batch.length,
      },
      metrics: {},
      seconds: { importanceNeighbors: walkSeconds, fullGraphInference: inferSeconds },
      peakRssMB: peakRssMB(),
      extra: {
        nodes: g.nNodes,
        subgraphsPerSec: reps / sampleSeconds,
        producerSubgraphsPerSec: producerRates,
        targetsPerSec: (reps * batch.length) / sampleSeconds,
        meanS0: sub0 / reps,
        loadavg: load(),
      },
    });
  }

  if (ctx.args.includes("--e2e")) await endToEnd(ctx, data);
  if (ctx.args.includes("--step-cost")) stepCost(ctx, data);

  const onlyTimings = ["--throughput", "--spmm", "--e2e", "--step-cost"].some((f) => ctx.args.includes(f));
  const models = arg(ctx.args, "models", onlyTimings ? "" : "lightgcn")
    .split(",")
    .filter((m) => m !== "");
  const evalEvery = Number(arg(ctx.args, "eval-every", "1"));
  const prior = priorArg(ctx.args);
  for (const name of models) {
    if (name === "graph-filter") {
      await graphFilter(ctx, data, train, test);
      continue;
    }
    const bpr = name.endsWith("-bpr");
    const conv = name.startsWith("pinsage") || name.startsWith("graphsage");
    const epochs = Number(arg(ctx.args, "epochs", bpr ? "50" : conv ? "5" : "12"));
    const o: LightGcnModelOptions & PinSageModelOptions = {
      epochs,
      layers: Number(arg(ctx.args, "layers", conv ? "2" : "3")),
      batchSize: Number(arg(ctx.args, "batch", bpr ? "2048" : conv ? "4096" : "8192")),
      lr: Number(arg(ctx.args, "lr", bpr ? "0.001" : conv ? "0.005" : "0.01")),
      ...(ctx.args.includes("--lr-milestones")
        ? { lrMilestones: arg(ctx.args, "lr-milestones", "").split(",").map(Number) }
        : {}),
      ...(conv
        ? { topT: Number(arg(ctx.args, "topt", "10")), fanout: Number(arg(ctx.args, "topt", "10")) }
        : {}),
      ...(bpr
        ? { loss: "bpr" as const, l2: Number(arg(ctx.args, "l2", "0")) }
        : {
            nGlobal: Number(arg(ctx.args, "nglobal", "1024")),
            inBatch: arg(ctx.args, "inbatch", "0") === "1",
            temperature: Number(arg(ctx.args, "tau", "0.1")),
          }),
    };
    let pairs = 0;
    let seconds = 0;
    let best = { epoch: 0, recall: 0, ndcg: 0 };
    const Model = name.startsWith("pinsage") ? PinSage : name.startsWith("graphsage") ? GraphSage : LightGcn;
    // `--prior β|auto`: also score the final model with a popularity prior (recall/popularity-prior.ts);
    // auto: β chosen first on a validation slice of the training data by a model of the same options
    let beta = prior;
    let selection: Record<string, unknown> = {};
    if (prior === "auto") {
      const t0 = performance.now();
      const sel = await selectPopularityPrior(() => new Model(o), data);
      beta = sel.beta;
      selection = {
        priorSelectionSeconds: Math.round((performance.now() - t0) / 1000),
        priorSelection: sel.table,
      };
      ctx.log(
        `${name}: popularity prior β = ${sel.beta} chosen on validation (${sel.table.map((x) => `${x.beta}: ${x.recall.toFixed(4)}`).join(", ")})`,
      );
    }
    const m: EmbeddingModel = new Model({
      ...o,
      progressEverySec: 30,
      onProgress: (p) =>
        ctx.log(
          `${name} epoch ${p.epoch}: ${p.done}/${p.total}, ${p.samplesPerSec.toFixed(0)} positives/s, loss ${p.loss.toFixed(4)}`,
        ),
      onEpoch: async (e) => {
        pairs += Math.round(e.samplesPerSec * e.seconds);
        seconds += e.seconds;
        if (e.epoch % evalEvery !== 0 && e.epoch !== epochs) return undefined;
        const v = e.vectors();
        const r = await evaluateEmbeddings({ dim: v.dim, users: v.queries, items: v.items }, train, test, {
          ks: [20],
        });
        const rec = { epoch: e.epoch, recall: r.metrics["recall@20"], ndcg: r.metrics["ndcg@20"] };
        if (rec.recall > best.recall) best = rec;
        ctx.log(
          `${name} epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${e.seconds.toFixed(1)} s, R@20 ${rec.recall.toFixed(4)} N@20 ${rec.ndcg.toFixed(4)}, peak RSS ${peakRssMB()} MB, load ${load()}`,
        );
        return rec.recall;
      },
    });
    await m.fit(data);
    let inference = 0;
    if (conv) {
      // full-graph inference over all 70,839 nodes, timed on its own (Code 5-10..5-12)
      const enc = (m as unknown as { recipe: { item: { exportAll(): Float32Array } } }).recipe.item;
      const ti = performance.now();
      enc.exportAll();
      inference = (performance.now() - ti) / 1000;
      ctx.log(`${name}: full-graph inference ${inference.toFixed(1)} s, load ${load()}`);
    }
    const t0 = performance.now();
    const r = await evaluateEmbeddings(m.embeddings(), train, test, { ks: [20, 100] });
    let withPrior: Record<string, unknown> = {};
    if (typeof beta === "number") {
      const p = await evaluateEmbeddings(
        withItemBias(m.embeddings(), popularityBias(train, beta)),
        train,
        test,
        {
          ks: [20, 100],
        },
      );
      withPrior = {
        popularityPrior: beta,
        withPrior: {
          "recall@20": p.metrics["recall@20"],
          "ndcg@20": p.metrics["ndcg@20"],
          "recall@100": p.metrics["recall@100"],
          "coverage@20": p.metrics["coverage@20"],
        },
        ...selection,
      };
    }
    ctx.emit({
      suite: "gcn",
      dataset: "gowalla",
      model: name,
      params: m.params(),
      metrics: headlineMetrics(r.metrics),
      seconds: { train: seconds, eval: (performance.now() - t0) / 1000, ...(conv ? { inference } : {}) },
      peakRssMB: peakRssMB(),
      extra: {
        positivesPerSec: Math.round(pairs / Math.max(seconds, 1e-9)),
        epochs: m.report?.history.length,
        bestEpoch: m.report?.bestEpoch,
        loadavg: load(),
        ...withPrior,
      },
    });
  }
}

/**
 * `--models graph-filter [--lowpass-dim 256] [--lowpass-weight 0.3] [--iterations 10]`: GF-CF
 * (recall/graph-filter.ts), nothing trained: fit = the eigenvectors of R̃ᵀR̃; scored through
 * `recommend` (the linear filter is not low-rank). Each comma-separated `--iterations` value is
 * one fit, to show what the eigensolver's accuracy is worth.
 */
async function graphFilter(ctx: BenchContext, data: Dataset, train: Csr, test: Csr): Promise<void> {
  for (const iterations of arg(ctx.args, "iterations", "10").split(",").map(Number)) {
    const o: GraphFilterOptions = {
      lowPassDim: Number(arg(ctx.args, "lowpass-dim", "256")),
      lowPassWeight: Number(arg(ctx.args, "lowpass-weight", "0.3")),
      iterations,
    };
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    const m = await new GraphFilter(o).fit(data);
    const fit = (performance.now() - t0) / 1000;
    const fitCpu = cpuSeconds() - cpu0;
    const t1 = performance.now();
    const r = await evaluate(m, train, test, { ks: [20, 100] });
    ctx.emit({
      suite: "gcn",
      dataset: "gowalla",
      model: "graph-filter",
      params: m.params(),
      metrics: headlineMetrics(r.metrics),
      seconds: { fit, fitCpu, eval: (performance.now() - t1) / 1000 },
      peakRssMB: peakRssMB(),
      extra: {
        lambda: [m.lowPassValues[0], m.lowPassValues[m.lowPassValues.length - 1]],
        loadavg: load(),
      },
    });
  }
}

/**
 * `--e2e [--e2e-users 6000] [--e2e-reps 1] [--epochs 1] [--sampler-workers 1] [--e2e-joint 1]`: end-to-end PinSage
 * training speed with the subgraphs sampled by worker threads (producer/consumer) against inline,
 * on Gowalla's first `e2e-users` users (all their training interactions; the whole-graph batches
 * of the full set would make one comparison take most of an hour on this machine). Same seed, so
 * both runs train the same batches and reach the same loss; runs alternate to share the load.
 */
async function endToEnd(ctx: BenchContext, data: Dataset): Promise<void> {
  const nUsers = Number(arg(ctx.args, "e2e-users", "6000"));
  const reps = Number(arg(ctx.args, "e2e-reps", "1"));
  const epochs = Number(arg(ctx.args, "epochs", "1"));
  const workers = Number(arg(ctx.args, "sampler-workers", "1").split(",")[0]);
  const x = data.train;
  const train = subset(x, (e) => x.users[e] < nUsers);
  const part = { ...data, train, test: null };
  const seen = new Set<number>();
  for (let e = 0; e < train.length; e++) seen.add(train.items[e]);
  ctx.log(`e2e: first ${nUsers} users, ${train.length} interactions, ${seen.size} items; load ${load()}`);
  const seconds: Record<string, number[]> = { inline: [], workers: [] };
  const cpu: Record<string, number[]> = { inline: [], workers: [] };
  const joint = arg(ctx.args, "e2e-joint", "1") === "1";
  const losses: Record<string, number> = {};
  for (let r = 0; r < reps; r++)
    for (const w of [0, workers]) {
      const key = w === 0 ? "inline" : "workers";
      const m = new PinSage({
        epochs,
        batchSize: 4096,
        lr: 0.005,
        seed: 42,
        samplerWorkers: w,
        samplerJoint: joint,
      });
      const before = load();
      const c0 = process.cpuUsage();
      await m.fit(part);
      const c = process.cpuUsage(c0);
      const h = m.report?.history ?? [];
      const s = h.reduce((a, e) => a + e.seconds, 0);
      seconds[key].push(s);
      cpu[key].push((c.user + c.system) / 1e6);
      losses[key] = h[h.length - 1]?.loss ?? Number.NaN;
      ctx.log(
        `e2e ${key} (${w} sampler workers, joint ${joint}): ${s.toFixed(1)} s, ${((train.length * epochs) / s).toFixed(0)} positives/s, process CPU ${((c.user + c.system) / 1e6).toFixed(1)} s (all threads, prepare included), loss ${losses[key].toFixed(4)}, load ${before} → ${load()}`,
      );
    }
  const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
  ctx.emit({
    suite: "gcn",
    dataset: `gowalla-first-${nUsers}-users`,
    model: "pinsage-producer-consumer",
    params: {
      epochs,
      batchSize: 4096,
      samplerWorkers: workers,
      samplerJoint: joint,
      reps,
      interactions: train.length,
    },
    metrics: { lossInline: losses.inline, lossWorkers: losses.workers },
    seconds: { inline: mean(seconds.inline), workers: mean(seconds.workers) },
    peakRssMB: peakRssMB(),
    extra: {
      positivesPerSecInline: (train.length * epochs) / mean(seconds.inline),
      positivesPerSecWorkers: (train.length * epochs) / mean(seconds.workers),
      speedup: mean(seconds.inline) / mean(seconds.workers),
      cpuSecondsInline: mean(cpu.inline),
      cpuSecondsWorkers: mean(cpu.workers),
      loadavg: load(),
    },
  });
}

/**
 * `--step-cost [--steps 6] [--batch 4096]`: CPU-seconds of one PinSage training step on Gowalla
 * (the core alone: users' and items' forward and backward, Adam; B positives, 1024 shared
 * negatives, random output gradients), subgraphs sampled inline, with one pass per side
 * ("separate") and one joint pass for both sides ("joint"). CPU time, not wall time, so the
 * figure holds on a loaded machine; `samplingCpuPerStep` is the joint subgraph's share of it.
 */
function stepCost(ctx: BenchContext, data: Dataset): void {
  const nU = data.users.size;
  const nI = data.items.size;
  const B = Number(arg(ctx.args, "batch", "4096"));
  const steps = Number(arg(ctx.args, "steps", "6"));
  const neg = 1024;
  const cpuNow = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1e6;
  };
  for (const mode of ["separate", "joint"] as const) {
    const rng = new Rng(1);
    const opt = adam({ lr: 0.005 });
    const core = new PinSageCore({ dim: 64, layers: 2, topT: 10, scale: 0.1 });
    core.prepare({ nRows: nU, rng, data, bags: null, optimizer: opt, sharedMemory: false }, "users");
    const plan = core.samplingPlan() as NonNullable<ReturnType<typeof core.samplingPlan>>;
    const scratch = new SubgraphScratch(plan.nNodes, plan.sampler.max);
    const q = new Int32Array(B);
    const it = new Int32Array(B + neg);
    let sampling = 0;
    let s0 = 0;
    if (mode === "joint")
      core.useSubgraphSource({
        take: () => null,
        takeJoint: (u, n) => {
          const c0 = cpuNow();
          const both = new Int32Array(n + B + neg);
          both.set(u.subarray(0, n));
          for (let i = 0; i < B + neg; i++) both[n + i] = nU + it[i];
          const sub = sampleSubgraph(both, both.length, 2, plan.sampler, rng, scratch);
          sampling += cpuNow() - c0;
          s0 += sub.layers[0].length;
          return sub;
        },
      });
    const Q = new Float32Array(B * 64);
    const C = new Float32Array((B + neg) * 64);
    const c0 = cpuNow();
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < B; i++) {
        const e = rng.int(data.train.length);
        q[i] = data.train.users[e];
        it[i] = data.train.items[e];
      }
      for (let i = 0; i < neg; i++) it[B + i] = rng.int(nI);
      core.forwardInto("users", q, B, Q);
      core.forwardInto("items", it, B + neg, C);
      for (let i = 0; i < Q.length; i++) Q[i] = 0.01 * (rng.next() - 0.5);
      for (let i = 0; i < C.length; i++) C[i] = 0.01 * (rng.next() - 0.5);
      opt.nextStep();
      core.backward("users", q, B, Q);
      core.backward("items", it, B + neg, C);
    }
    const cpu = (cpuNow() - c0) / steps;
    ctx.emit({
      suite: "gcn",
      dataset: "gowalla",
      model: `pinsage-step-${mode}`,
      params: { dim: 64, layers: 2, topT: 10, batch: B, negatives: neg, steps },
      metrics: {},
      seconds: { cpuPerStep: cpu, wallPerStep: (performance.now() - t0) / 1000 / steps },
      peakRssMB: peakRssMB(),
      extra: {
        positivesPerCpuSecond: B / cpu,
        ...(mode === "joint" ? { samplingCpuPerStep: sampling / steps, meanJointS0: s0 / steps } : {}),
        loadavg: load(),
      },
    });
  }
}

function subset(x: Interactions, keep: (e: number) => boolean): Interactions {
  const idx: number[] = [];
  for (let e = 0; e < x.length; e++) if (keep(e)) idx.push(e);
  return {
    length: idx.length,
    users: Int32Array.from(idx, (e) => x.users[e]),
    items: Int32Array.from(idx, (e) => x.items[e]),
    weights: null,
    ts: null,
    events: null,
    eventNames: [],
    sessions: null,
  };
}

/** HitRate@k and Recall@k of test users ranking the withheld items only by `score(u, i)`. */
function rankWithheld(
  targets: Map<number, Set<number>>,
  withheld: Int32Array,
  k: number,
  score: (u: number, i: number) => number,
): { hitRate: number; recall: number; hitRate10: number } {
  let hit = 0;
  let hit10 = 0;
  let recall = 0;
  const s = new Float64Array(withheld.length);
  const order = Int32Array.from(withheld, (_, j) => j);
  for (const [u, want] of targets) {
    for (let j = 0; j < withheld.length; j++) s[j] = score(u, withheld[j]);
    // ties broken by item id (deterministic; no advantage to any method)
    order.sort((a, b) => s[b] - s[a] || withheld[a] - withheld[b]);
    let h = 0;
    for (let r = 0; r < Math.min(k, order.length); r++) if (want.has(withheld[order[r]])) h++;
    if (h > 0) hit++;
    for (let r = 0; r < Math.min(10, order.length); r++)
      if (want.has(withheld[order[r]])) {
        hit10++;
        break;
      }
    recall += h / want.size;
  }
  return { hitRate: hit / targets.size, recall: recall / targets.size, hitRate10: hit10 / targets.size };
}

async function inductive(ctx: BenchContext): Promise<void> {
  const dir = arg(
    ctx.args,
    "data",
    ctx.dataDir === undefined ? "../shared/data/ml-100k" : join(ctx.dataDir, "ml-100k"),
  );
  const ds = await loadMovieLens(dir);
  const seed = Number(arg(ctx.args, "seed", "1"));
  const epochs = Number(arg(ctx.args, "epochs", "10"));
  const share = Number(arg(ctx.args, "withhold", "0.1"));
  const testShare = Number(arg(ctx.args, "test-users", "0.2"));
  const nU = ds.users.size;
  const nI = ds.items.size;
  const rng = new Rng(seed);
  const perm = rng.shuffle(Int32Array.from({ length: nI }, (_, i) => i));
  const withheld = perm.slice(0, Math.round(share * nI)).sort();
  const isWithheld = new Uint8Array(nI);
  for (const i of withheld) isWithheld[i] = 1;
  const uperm = rng.shuffle(Int32Array.from({ length: nU }, (_, u) => u));
  const isTest = new Uint8Array(nU);
  for (const u of uperm.subarray(0, Math.round(testShare * nU))) isTest[u] = 1;
  const x = ds.train;
  const trainX = subset(x, (e) => isWithheld[x.items[e]] === 0);
  // inference-time edges of the withheld items: their interactions by non-test users
  const extra = subset(x, (e) => isWithheld[x.items[e]] === 1 && isTest[x.users[e]] === 0);
  const targets = new Map<number, Set<number>>();
  for (let e = 0; e < x.length; e++) {
    const u = x.users[e];
    if (isWithheld[x.items[e]] === 1 && isTest[u] === 1) {
      const t = targets.get(u) ?? new Set<number>();
      t.add(x.items[e]);
      targets.set(u, t);
    }
  }
  const popularity = new Float64Array(nI);
  for (let e = 0; e < extra.length; e++) popularity[extra.items[e]]++;
  let coldInference = 0;
  for (const i of withheld) if (popularity[i] === 0) coldInference++;
  const trainSet = { ...ds, train: trainX, test: null };
  ctx.log(
    `ml-100k inductive: ${withheld.length} withheld items (${coldInference} without inference edges), ${trainX.length} training interactions, ${extra.length} inference-time edges, ${targets.size} test users, ${[...targets.values()].reduce((a, t) => a + t.size, 0)} targets; load ${load()}`,
  );
  const base = {
    split: "withhold-items",
    seed,
    withhold: share,
    testUsers: testShare,
    candidates: withheld.length,
  };
  const emit = (
    model: string,
    r: { hitRate: number; recall: number; hitRate10: number },
    params = {},
    seconds = {},
  ) =>
    ctx.emit({
      suite: "gcn",
      dataset: "ml-100k",
      model,
      params: { ...base, ...params },
      metrics: { "hitrate@20": r.hitRate, "recall@20": r.recall, "hitrate@10": r.hitRate10 },
      seconds,
      peakRssMB: peakRssMB(),
      extra: { loadavg: load() },
    });
  emit(
    "popularity(inference edges)",
    rankWithheld(targets, withheld, 20, (_u, i) => popularity[i]),
  );
  // random ranking, in expectation: P(no hit) = C(N−t, 20) / C(N, 20) for t targets among N
  const N = withheld.length;
  const randomHit = (k: number) => {
    let sum = 0;
    for (const t of targets.values()) {
      let miss = 1;
      for (let r = 0; r < Math.min(k, N); r++) miss *= Math.max(0, N - t.size - r) / (N - r);
      sum += 1 - miss;
    }
    return sum / targets.size;
  };
  emit("random(expected)", {
    hitRate: randomHit(20),
    recall: Math.min(1, 20 / N),
    hitRate10: randomHit(10),
  });
  const drop = Number(arg(ctx.args, "id-dropout", "0.5"));
  const variants: { name: string; attrs: string[]; edges: boolean; idDropout: number }[] = [
    { name: "graphsage+genre", attrs: ["genre"], edges: true, idDropout: 0 },
    { name: "graphsage+genre (features only)", attrs: ["genre"], edges: false, idDropout: 0 },
    { name: "graphsage (edges only)", attrs: [], edges: true, idDropout: 0 },
    { name: `graphsage+genre, idDropout ${drop}`, attrs: ["genre"], edges: true, idDropout: drop },
    {
      name: `graphsage+genre, idDropout ${drop} (features only)`,
      attrs: ["genre"],
      edges: false,
      idDropout: drop,
    },
  ];
  const fitted = new Map<string, GraphSage>();
  for (const v of variants) {
    const key = `${v.attrs.join(",")}/${v.idDropout}`;
    let m = fitted.get(key);
    let trainSeconds = 0;
    if (m === undefined) {
      m = new GraphSage({
        dim: 64,
        layers: 2,
        epochs,
        batchSize: 1024,
        nGlobal: 256,
        lr: 0.005,
        temperature: 0.1,
        fanout: 10,
        itemAttributes: v.attrs,
        idDropout: v.idDropout,
        seed,
      });
      const t0 = performance.now();
      await m.fit(trainSet);
      trainSeconds = (performance.now() - t0) / 1000;
      fitted.set(key, m);
    }
    const t1 = performance.now();
    const e = m.inductiveEmbeddings(trainSet, v.edges ? extra : subset(extra, () => false));
    const inferSeconds = (performance.now() - t1) / 1000;
    const d = e.dim;
    const score = (u: number, i: number) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += e.users[u * d + j] * e.items[i * d + j];
      return s;
    };
    emit(
      v.name,
      rankWithheld(targets, withheld, 20, score),
      { epochs, dim: 64, layers: 2, idDropout: v.idDropout },
      {
        ...(trainSeconds > 0 ? { train: trainSeconds } : {}),
        inference: inferSeconds,
      },
    );
  }
}
