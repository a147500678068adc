/**
 * `npm run bench -- fm [--dataset ml-100k|gowalla] [--epochs N] [--workers N] [--dim D]
 *  [--grid default|tradeoff] [--alpha A] [--power B] [--logq 0|1] [--user-fields f,g,...]
 *  [--lr X] [--l2 X] [--lr-schedule linear|constant] [--id-dropout P] [--seed S] [--data DIR]`
 *
 * FM recall (spec §5.4). ML-100k: per-user random 80/20 split (seed 42) after withholding 10% of
 * the users entirely (all their rows go to test: cold users); user fields id/age/gender/
 * occupation, item fields id/genre/year. Gowalla: the LightGCN split, id fields only.
 * For each (down-sampling α, negative power b) of the grid: Recall/NDCG@20, coverage@20 and
 * avgpop@20 over warm users; on ML-100k also cold users scored from attributes alone
 * (`userVector`) against the popularity ranking. Throughput = (user, t⁺, t⁻) triples/s.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { loadMovieLens } from "../../src/data/movielens.ts";
import { splitRandom, withSplit } from "../../src/data/split.ts";
import { evaluate, evaluateTopK } from "../../src/eval/evaluate.ts";
import type { Csr } from "../../src/math/csr.ts";
import { Rng } from "../../src/math/rng.ts";
import { FmRecall } from "../../src/models/fm.ts";
import { Popular } from "../../src/recall/popular.ts";
import type { Dataset, Interactions } from "../../src/types.ts";
import { defaultWorkers } from "../../src/workers.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB } from "../util.ts";

/** Moves every row of a random 10% of users to test (cold users); returns them too. */
function withholdUsers(d: Dataset, share: number, seed: number): { data: Dataset; cold: Int32Array } {
  const rng = new Rng(seed);
  const isCold = new Uint8Array(d.users.size);
  for (let u = 0; u < isCold.length; u++) isCold[u] = rng.next() < share ? 1 : 0;
  const pick = (log: Interactions, keep: (e: number) => boolean) => {
    const rows: number[] = [];
    for (let e = 0; e < log.length; e++) if (keep(e)) rows.push(e);
    const r = Int32Array.from(rows);
    return {
      ...log,
      length: r.length,
      users: r.map((e) => log.users[e]),
      items: r.map((e) => log.items[e]),
      weights: log.weights === null ? null : Float32Array.from(r, (e) => (log.weights as Float32Array)[e]),
      ts: log.ts === null ? null : Float64Array.from(r, (e) => (log.ts as Float64Array)[e]),
      events: null,
      sessions: null,
    };
  };
  const train = pick(d.train, (e) => isCold[d.train.users[e]] === 0);
  const test = d.test as Interactions;
  const coldTrain = pick(d.train, (e) => isCold[d.train.users[e]] === 1);
  const cat = (a: Interactions, b: Interactions): Interactions => ({
    ...a,
    length: a.length + b.length,
    users: Int32Array.from([...a.users, ...b.users]),
    items: Int32Array.from([...a.items, ...b.items]),
    weights: null,
    ts: null,
  });
  const cold = Int32Array.from(Array.from(isCold).flatMap((c, u) => (c ? [u] : [])));
  return { data: { ...d, train, test: cat(test, coldTrain) }, cold };
}

export async function run(ctx: BenchContext): Promise<void> {
  const dataset = arg(ctx.args, "dataset", "ml-100k");
  const gowalla = dataset === "gowalla";
  const epochs = Number(arg(ctx.args, "epochs", gowalla ? "20" : "30"));
  const workers = Number(arg(ctx.args, "workers", String(defaultWorkers())));
  const dim = Number(arg(ctx.args, "dim", "64"));
  const alpha = Number(arg(ctx.args, "alpha", gowalla ? "1e-4" : "1e-3"));
  const dir = arg(ctx.args, "data", join(ctx.dataDir ?? "../shared/data", dataset));
  let data: Dataset;
  let cold: Int32Array = new Int32Array(0);
  if (gowalla) data = await loadLightGcn(dir, { name: "gowalla" });
  else {
    const raw = await loadMovieLens(dir);
    const w = withholdUsers(withSplit(raw, splitRandom(raw.train, { seed: 42 })), 0.1, 7);
    data = w.data;
    cold = w.cold;
  }
  const nU = data.users.size;
  const nI = data.items.size;
  const train: Csr = userItemCsr(data.train, nU, nI);
  const test: Csr = userItemCsr(data.test as Interactions, nU, nI);
  const coldSet = new Set(cold);
  const warm = Int32Array.from({ length: nU }, (_, u) => u).filter((u) => !coldSet.has(u));
  const userFieldsArg = arg(ctx.args, "user-fields", "");
  const fields = gowalla
    ? { userFields: ["id"], itemFields: ["id"] }
    : { userFields: ["id", "age", "gender", "occupation"], itemFields: ["id", "genre", "year"] };
  // e.g. --user-fields age,gender,occupation: users described by attributes only (no id), so a
  // cold user is encoded exactly like a warm one.
  if (userFieldsArg !== "") fields.userFields = userFieldsArg.split(",");
  // Training knobs (defaults = FmRecall's): --lr, --l2, --lr-schedule linear|constant,
  // --logq 1 (sampling-bias correction for every row), --id-dropout p, --seed s.
  const knobs: Record<string, unknown> = {};
  if (arg(ctx.args, "lr", "") !== "") knobs.lr = Number(arg(ctx.args, "lr", ""));
  if (arg(ctx.args, "l2", "") !== "") knobs.l2 = Number(arg(ctx.args, "l2", ""));
  if (arg(ctx.args, "lr-schedule", "") !== "") knobs.lrSchedule = arg(ctx.args, "lr-schedule", "");
  if (arg(ctx.args, "id-dropout", "") !== "") knobs.idDropout = Number(arg(ctx.args, "id-dropout", ""));
  const seed = Number(arg(ctx.args, "seed", "42"));
  const logQ = arg(ctx.args, "logq", "0") === "1";
  // (α, b, logQ): the spec's trade-off grid, plus b > 0 with the sampling-bias correction.
  const grid: [number, number, boolean][] =
    arg(ctx.args, "grid", "tradeoff") === "default"
      ? [[0, Number(arg(ctx.args, "power", "0.75")), logQ]]
      : [
          [0, 0, false],
          [0, 0.75, false],
          [0, 1, false],
          [alpha, 0, false],
          [alpha, 0.75, false],
          [alpha, 1, false],
          [0, 0.75, true],
          [0, 1, true],
        ];
  ctx.log(`${dataset}: ${nU} users (${cold.length} cold) × ${nI} items, ${train.indices.length} train pairs`);
  const pop = await new Popular().fit(data);
  const popWarm = await evaluate(pop, train, test, { ks: [20], users: warm });
  const popCold = cold.length > 0 ? await evaluate(pop, train, test, { ks: [20], users: cold }) : null;
  ctx.emit({
    suite: "fm",
    dataset,
    model: "popular",
    params: {},
    metrics: {
      ...pick(popWarm.metrics),
      ...(popCold
        ? { "cold.recall@20": popCold.metrics["recall@20"], "cold.ndcg@20": popCold.metrics["ndcg@20"] }
        : {}),
    },
    seconds: {},
    peakRssMB: peakRssMB(),
  });
  for (const [a, b, lq] of grid) {
    const m = new FmRecall({
      ...fields,
      ...knobs,
      dim,
      epochs,
      workers,
      subsample: a,
      power: b,
      logQ: lq,
      seed,
    });
    const t0 = performance.now();
    await m.fit(data);
    const trainS = (performance.now() - t0) / 1000;
    const h = m.report?.history ?? [];
    const perSec =
      h.reduce((s, r) => s + r.samplesPerSec * r.seconds, 0) / h.reduce((s, r) => s + r.seconds, 0);
    const r = await evaluate(m, train, test, { ks: [20], users: warm });
    const metrics: Record<string, number> = pick(r.metrics);
    if (cold.length > 0) {
      // Cold users: E_u from attributes only (no id: it was never trained).
      const au = data.userAttributes;
      const vals = (u: number, name: string) => {
        const f = au.get(name);
        if (f === undefined) return [];
        return Array.from(f.csr.indices.subarray(f.csr.offsets[u], f.csr.offsets[u + 1]), (v) =>
          f.vocab.id(v),
        );
      };
      const q = new Float32Array(cold.length * (dim + 1));
      cold.forEach((u, i) => {
        q.set(
          m.userVector({ age: vals(u, "age"), gender: vals(u, "gender"), occupation: vals(u, "occupation") }),
          i * (dim + 1),
        );
      });
      const top = m.recommendVectors(q, cold.length, 20);
      const c = evaluateTopK(top, cold, train, test, { ks: [20] });
      metrics["cold.recall@20"] = c.metrics["recall@20"];
      metrics["cold.ndcg@20"] = c.metrics["ndcg@20"];
      // Diagnostics: the cold ranking by the item term W_t + V_tt alone (query concat(1, 0)),
      // and the rank correlation of that term with the items' training counts.
      const q1 = new Float32Array(cold.length * (dim + 1));
      for (let i = 0; i < cold.length; i++) q1[i * (dim + 1)] = 1;
      const c1 = evaluateTopK(m.recommendVectors(q1, cold.length, 20), cold, train, test, { ks: [20] });
      metrics["cold.itemTerm.recall@20"] = c1.metrics["recall@20"];
      const items = m.embeddings().items;
      const term = Float64Array.from({ length: nI }, (_, t) => items[t * (dim + 1)]);
      const counts = new Float64Array(nI);
      for (let e = 0; e < train.indices.length; e++) counts[train.indices[e]]++;
      metrics["itemTerm.spearman"] = spearman(term, counts);
    }
    ctx.log(
      `fm α=${a} b=${b}${lq ? " logQ" : ""}: ${JSON.stringify(metrics)} train ${trainS.toFixed(1)} s, ${Math.round(perSec)} triples/s`,
    );
    ctx.emit({
      suite: "fm",
      dataset,
      model: "fm",
      params: m.params(),
      metrics,
      seconds: { train: trainS },
      peakRssMB: peakRssMB(),
      extra: {
        triplesPerSec: Math.round(perSec),
        path: m.report?.path,
        workers: m.report?.workers,
        loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
      },
    });
  }
}

/** Spearman rank correlation (ties broken by index). */
function spearman(a: Float64Array, b: Float64Array): number {
  const rank = (x: Float64Array) => {
    const order = Array.from(x.keys()).sort((i, j) => x[i] - x[j] || i - j);
    const r = new Float64Array(x.length);
    for (let k = 0; k < order.length; k++) r[order[k]] = k;
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (ra[i] - rb[i]) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

function pick(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ["recall@20", "ndcg@20", "coverage@20", "avgpop@20"]) out[k] = m[k];
  return out;
}
