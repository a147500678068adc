/**
 * Word2vec-family recall against ItemCF and popularity (issue 9, spec §5.3), four tables:
 *
 * 1. `diginetica` — next-item on sessions. Sessions are ordered by their start
 *    (eventdate + timeframe); the latest `--test-share` of them are test sessions. Train = every
 *    row (views and purchases) of the train sessions. A test session's views, restricted to items
 *    seen in train, lose their last item (the target); the `--recent` items before it are the
 *    query. Sessions with < 2 usable views are dropped. HitRate@20 and MRR@20 over test sessions,
 *    via evaluateTopK (no masking: the query items themselves are excluded from every list).
 * 2. `ml-100k` (and `ml-latest-small`) — U2I from recent items: leave-last-out by time; each test
 *    user's `--recent` latest train items are the query, all their train items are excluded.
 * 3. `cold` — EGES cold start on Diginetica: `--cold-share` of the train items are withheld (their
 *    rows leave the training log; they keep their category), so EGES serves them from side
 *    information alone. HitRate@20 on the test sessions whose target is withheld, against
 *    popularity fitted on the same log (0 by construction: it never saw them) and against
 *    popularity with the full train counts (an oracle: it knows how popular they are).
 *
 * 4. `types` — Airbnb U2I with user/listing types (5-18) on ML-100k: `--cold-share` of the users
 *    are withheld from training; AirbnbTypes serves them from age band × gender × occupation
 *    alone, popularity from the other users' counts. Test = the withheld users' ratings ≥ 4;
 *    Recall/HitRate/NDCG@20 over them (nothing to mask: they have no training rows). `--splits`
 *    (default 5) independent draws of the withheld users, each figure per split and their mean:
 *    ~75 users per split make one split's figure noisy (±0.01). Rows: the paper's design
 *    (cross types, listing types, rejections as hard negatives), the cold-start setting (rare
 *    types back off, item outputs), popularity, and popularity within the user's age band.
 *
 *   npm run bench -- sessions [--only diginetica,cold,ml-100k,ml-latest-small,types] [--recent 3]
 *     [--test-share 0.2] [--cold-share 0.1] [--epochs N] [--eges-epochs 5] [--dim 64] [--workers 0]
 *     [--serve in|in+out] [--models item2vec,airbnb-i2i,eges,itemcf,popular]
 *     [--user-fields age,gender,occupation] [--bands 3] [--types-epochs 10] [--splits 5]
 *     [--data-dir DIR]
 *
 * `--epochs` (Item2Vec, Airbnb) defaults to 200 on the Diginetica sample (≈ 1.4 rows per item:
 * 10 epochs leave the vectors near their random start, HR@20 0.010) and 10 on MovieLens; EGES
 * trains on walks that already hold walksPerNode × walkLength tokens per node, hence 5.
 * `--workers 0` (default) keeps every figure reproducible.
 *
 * The Diginetica folder in ../shared/data holds only the 1 % sample of the view log: its figures
 * are smoke-test figures, not the paper table.
 */
import { join } from "node:path";
import { loadDiginetica } from "../../src/data/diginetica.ts";
import { filterRows, orderByUserTime, selectRows, userCount } from "../../src/data/interactions.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { loadMovieLens } from "../../src/data/movielens.ts";
import { splitLeaveLastOut } from "../../src/data/split.ts";
import { evaluateTopK } from "../../src/eval/metrics.ts";
import type { Csr } from "../../src/math/csr.ts";
import { Rng } from "../../src/math/rng.ts";
import { TopK } from "../../src/math/topk.ts";
import { AirbnbEmbedding } from "../../src/models/airbnb.ts";
import { AirbnbTypes } from "../../src/models/airbnb-types.ts";
import { Eges } from "../../src/models/eges.ts";
import { Item2Vec } from "../../src/models/item2vec.ts";
import type { Sequences } from "../../src/positives/sequences.ts";
import { ItemCF } from "../../src/recall/item-cf.ts";
import { Popular } from "../../src/recall/popular.ts";
import type { Recommender } from "../../src/recommender.ts";
import type { Dataset, Interactions } from "../../src/types.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB, timed } from "../util.ts";

const K = 20;

/** One query: recent items (most recent last), items to exclude, the held-out target(s). */
interface Cases {
  readonly recent: Int32Array[];
  readonly exclude: Int32Array[];
  readonly targets: Int32Array[];
}

type FromItems = Recommender & {
  recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK;
};

/** Rows → CSR with one row per case (the eval's train/test shape). */
function rowsCsr(rows: readonly Int32Array[], nCols: number): Csr {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => {
    offsets[i + 1] = offsets[i] + r.length;
  });
  const indices = new Int32Array(offsets[rows.length]);
  rows.forEach((r, i) => {
    indices.set(Int32Array.from(r).sort(), offsets[i]);
  });
  return { nRows: rows.length, nCols, offsets, indices, values: null };
}

/** HitRate@20 / MRR@20 (evaluateTopK) of a model's recommendFromItems over the cases. */
function score(model: FromItems, cases: Cases, nItems: number): Record<string, number> {
  const n = cases.recent.length;
  const lists = new TopK(n, K);
  for (let i = 0; i < n; i++) {
    const r = model.recommendFromItems(cases.recent[i], K, cases.exclude[i]);
    lists.ids.set(r.ids.subarray(0, r.counts[0]), i * K);
    lists.scores.set(r.scores.subarray(0, r.counts[0]), i * K);
    lists.counts[i] = r.counts[0];
  }
  const empty = rowsCsr(
    cases.targets.map(() => new Int32Array(0)),
    nItems,
  );
  const rep = evaluateTopK(
    lists,
    Int32Array.from({ length: n }, (_, i) => i),
    empty,
    rowsCsr(cases.targets, nItems),
    { ks: [K] },
  );
  return { [`hitrate@${K}`]: rep.metrics[`hitrate@${K}`], [`mrr@${K}`]: rep.metrics[`mrr@${K}`], cases: n };
}

/** Per-key sequences of the rows whose event is not in `drop` (rows in log order, already by time). */
export function sequencesOfRows(log: Interactions, keep: (e: number) => boolean): Sequences {
  const key = log.sessions ?? log.users;
  const nKeys = userCount({ ...log, users: key });
  const { order, offsets } = orderByUserTime({ ...log, users: key }, nKeys);
  const out: number[] = [];
  const off = [0];
  for (let s = 0; s < nKeys; s++) {
    for (let p = offsets[s]; p < offsets[s + 1]; p++) if (keep(order[p])) out.push(log.items[order[p]]);
    off.push(out.length);
  }
  return { offsets: Int32Array.from(off), items: Int32Array.from(out) };
}

interface Opts {
  readonly dim: number;
  /** Item2Vec and Airbnb epochs over the sessions; EGES epochs over its walks (already ×walksPerNode). */
  readonly epochs: number;
  readonly egesEpochs: number;
  readonly serve: "in" | "in+out";
  readonly models: readonly string[];
  readonly workers: number;
  readonly recent: number;
}

function models(o: Opts, seqs: Sequences, market: string | null, fields: readonly string[]) {
  const w2v = {
    dim: o.dim,
    epochs: o.epochs,
    window: 5,
    negatives: 5,
    workers: o.workers,
    seed: 7,
    serve: o.serve,
  };
  return [
    ["item2vec", () => new Item2Vec({ ...w2v, sequences: seqs })],
    ["airbnb-i2i", () => new AirbnbEmbedding({ ...w2v, market })],
    [
      "eges",
      () =>
        new Eges({
          dim: o.dim,
          epochs: o.egesEpochs,
          window: 5,
          negatives: 5,
          seed: 7,
          sequences: seqs,
          fields,
          workers: o.workers,
        }),
    ],
    ["itemcf", () => new ItemCF({ preset: "cosine", workers: 0 })],
    ["popular", () => new Popular()],
  ] as const satisfies readonly (readonly [string, () => Recommender])[];
}

async function table(
  ctx: BenchContext,
  dataset: string,
  data: Dataset,
  cases: Cases,
  seqs: Sequences,
  o: Opts,
  market: string | null,
  fields: readonly string[],
): Promise<void> {
  ctx.log(
    `${dataset}: ${data.train.length} train rows, ${data.items.size} items, ${cases.recent.length} cases`,
  );
  for (const [name, make] of models(o, seqs, market, fields)) {
    if (!o.models.includes(name)) continue;
    const m = make() as FromItems;
    const [, fit] = await timed(() => m.fit(data));
    const [metrics, ev] = await timed(() => score(m, cases, data.items.size));
    ctx.log(
      `${dataset} ${name}: HR@${K} ${metrics[`hitrate@${K}`].toFixed(4)}  MRR@${K} ${metrics[`mrr@${K}`].toFixed(4)}  fit ${fit.toFixed(2)} s`,
    );
    ctx.emit({
      suite: "sessions",
      dataset,
      model: name,
      params: { ...m.params(), recent: o.recent },
      metrics,
      seconds: { fit, eval: ev },
      peakRssMB: peakRssMB(),
    });
  }
}

/** Diginetica split by session start; returns the train dataset and the next-item cases. */
export function digineticaSplit(ds: Dataset, testShare: number, recent: number) {
  const log = ds.train;
  const sess = log.sessions ?? log.users;
  const nS = userCount({ ...log, users: sess });
  const start = new Float64Array(nS).fill(Number.POSITIVE_INFINITY);
  const ts = log.ts as Float64Array;
  for (let e = 0; e < log.length; e++) if (ts[e] < start[sess[e]]) start[sess[e]] = ts[e];
  const byStart = Int32Array.from({ length: nS }, (_, s) => s).sort((a, b) => start[a] - start[b] || a - b);
  const isTest = new Uint8Array(nS);
  for (let p = Math.floor(nS * (1 - testShare)); p < nS; p++) isTest[byStart[p]] = 1;
  const trainRows = Uint8Array.from({ length: log.length }, (_, e) => 1 - isTest[sess[e]]);
  const train = filterRows(log, trainRows);
  const seen = new Uint8Array(ds.items.size);
  for (let e = 0; e < train.length; e++) seen[train.items[e]] = 1;
  const view = log.eventNames.indexOf("view");
  const testLog = selectRows(
    log,
    Int32Array.from({ length: log.length }, (_, e) => e).filter((e) => isTest[sess[e]] === 1),
  );
  const views = sequencesOfRows(
    testLog,
    (e) => (testLog.events === null || testLog.events[e] === view) && seen[testLog.items[e]] === 1,
  );
  const cases: { recent: Int32Array[]; exclude: Int32Array[]; targets: Int32Array[] } = {
    recent: [],
    exclude: [],
    targets: [],
  };
  let repeats = 0;
  for (let s = 0; s + 1 < views.offsets.length; s++) {
    const a = views.offsets[s];
    const b = views.offsets[s + 1];
    if (b - a < 2) continue;
    const q = views.items.slice(Math.max(a, b - 1 - recent), b - 1);
    cases.recent.push(q);
    cases.exclude.push(q);
    cases.targets.push(views.items.slice(b - 1, b));
    if (q.includes(views.items[b - 1])) repeats++;
  }
  return { data: { ...ds, train, test: null } as Dataset, cases, repeats };
}

export async function run(ctx: BenchContext): Promise<void> {
  const root = ctx.dataDir ?? "../shared/data";
  const only = arg(ctx.args, "only", "diginetica,ml-100k,cold").split(",");
  const o: Opts = {
    dim: Number(arg(ctx.args, "dim", "64")),
    epochs: Number(arg(ctx.args, "epochs", "0")), // 0: 200 on the Diginetica sample, 10 on MovieLens
    egesEpochs: Number(arg(ctx.args, "eges-epochs", "5")),
    serve: arg(ctx.args, "serve", "in") === "in+out" ? "in+out" : "in",
    models: arg(ctx.args, "models", "item2vec,airbnb-i2i,eges,itemcf,popular").split(","),
    workers: Number(arg(ctx.args, "workers", "0")),
    recent: Number(arg(ctx.args, "recent", "3")),
  };
  const testShare = Number(arg(ctx.args, "test-share", "0.2"));

  if (only.includes("diginetica") || only.includes("cold")) {
    const ds = await loadDiginetica(join(root, "diginetica"));
    const { data, cases, repeats } = digineticaSplit(ds, testShare, o.recent);
    const view = data.train.eventNames.indexOf("view");
    const trainSeqs = sequencesOfRows(
      data.train,
      (e) => data.train.events === null || data.train.events[e] === view,
    );
    ctx.log(`diginetica: ${cases.recent.length} test sessions, ${repeats} targets repeat a query item`);
    if (only.includes("diginetica"))
      await table(ctx, "diginetica", data, cases, trainSeqs, { ...o, epochs: o.epochs || 200 }, "category", [
        "category",
      ]);

    if (only.includes("cold")) {
      const share = Number(arg(ctx.args, "cold-share", "0.1"));
      const rng = new Rng(11);
      const cold = new Uint8Array(data.items.size);
      for (let e = 0; e < data.train.length; e++) cold[data.train.items[e]] = 2; // in train
      for (let i = 0; i < cold.length; i++) if (cold[i] === 2) cold[i] = rng.next() < share ? 1 : 0;
      const warmLog = filterRows(
        data.train,
        Uint8Array.from({ length: data.train.length }, (_, e) => (cold[data.train.items[e]] === 1 ? 0 : 1)),
      );
      const warm: Dataset = { ...data, train: warmLog };
      const sel = cases.targets.map((t, i) => (cold[t[0]] === 1 ? i : -1)).filter((i) => i >= 0);
      const cc: Cases = {
        // query items are warm or cold alike; cold query items have side-info vectors too
        recent: sel.map((i) => cases.recent[i]),
        exclude: sel.map((i) => cases.exclude[i]),
        targets: sel.map((i) => cases.targets[i]),
      };
      const seqs = sequencesOfRows(warmLog, (e) => warmLog.events === null || warmLog.events[e] === view);
      let nCold = 0;
      for (const c of cold) nCold += c === 1 ? 1 : 0;
      ctx.log(`cold: ${nCold} items withheld, ${cc.recent.length} test sessions end in one`);
      const runs: [string, Recommender & FromItems, Dataset][] = [
        [
          "eges",
          new Eges({
            dim: o.dim,
            epochs: o.egesEpochs,
            window: 5,
            negatives: 5,
            seed: 7,
            sequences: seqs,
            fields: ["category"],
            workers: o.workers,
          }),
          warm,
        ],
        ["popular", new Popular() as Recommender & FromItems, warm],
        ["popular-full-counts", new Popular() as Recommender & FromItems, data],
      ];
      for (const [name, m, d] of runs) {
        const [, fit] = await timed(() => m.fit(d));
        const metrics = score(m, cc, d.items.size);
        ctx.log(
          `cold ${name}: HR@${K} ${metrics[`hitrate@${K}`].toFixed(4)}  MRR@${K} ${metrics[`mrr@${K}`].toFixed(4)}`,
        );
        ctx.emit({
          suite: "sessions",
          dataset: "diginetica-cold",
          model: name,
          params: { ...m.params(), coldShare: share, recent: o.recent },
          metrics,
          seconds: { fit },
          peakRssMB: peakRssMB(),
          extra: { coldItems: nCold },
        });
      }
    }
  }

  for (const variant of ["ml-100k", "ml-latest-small"] as const) {
    if (!only.includes(variant)) continue;
    const ds = await loadMovieLens(join(root, variant));
    const split = splitLeaveLastOut(ds.train);
    const data: Dataset = { ...ds, train: split.train, test: null };
    const nU = data.users.size;
    const nI = data.items.size;
    const byUser = userItemCsr(split.train, nU, nI);
    const { order, offsets } = orderByUserTime(split.train, nU);
    const cases: { recent: Int32Array[]; exclude: Int32Array[]; targets: Int32Array[] } = {
      recent: [],
      exclude: [],
      targets: [],
    };
    const testOf = userItemCsr(split.test, nU, nI);
    for (let u = 0; u < nU; u++) {
      const t = testOf.indices.slice(testOf.offsets[u], testOf.offsets[u + 1]);
      if (t.length === 0) continue;
      const a = offsets[u];
      const b = offsets[u + 1];
      cases.recent.push(
        Int32Array.from(order.subarray(Math.max(a, b - o.recent), b), (e) => split.train.items[e]),
      );
      cases.exclude.push(byUser.indices.slice(byUser.offsets[u], byUser.offsets[u + 1]));
      cases.targets.push(t);
    }
    await table(
      ctx,
      variant,
      data,
      cases,
      sequencesOfRows(split.train, () => true),
      { ...o, epochs: o.epochs || 10 },
      "genre",
      ["genre", "year"],
    );
  }

  if (only.includes("types"))
    await typesTable(
      ctx,
      root,
      Number(arg(ctx.args, "cold-share", "0.1")),
      arg(ctx.args, "user-fields", "age,gender,occupation").split(","),
      Number(arg(ctx.args, "types-epochs", "10")),
      Number(arg(ctx.args, "bands", "3")),
      Number(arg(ctx.args, "splits", "5")),
    );
}

async function typesTable(
  ctx: BenchContext,
  root: string,
  share: number,
  userFields: readonly string[],
  epochs: number,
  popularityBands: number,
  splits: number,
): Promise<void> {
  const ds = await loadMovieLens(join(root, "ml-100k"));
  const nU = ds.users.size;
  const nI = ds.items.size;
  const log = ds.train;
  const w = log.weights as Float32Array;
  const sums = new Map<string, { recall: number; ndcg: number; hr: number; n: number }>();
  for (let split = 0; split < splits; split++) {
    const rng = new Rng(5 + split);
    const held = Uint8Array.from({ length: nU }, () => (rng.next() < share ? 1 : 0));
    const train = filterRows(
      log,
      Uint8Array.from({ length: log.length }, (_, e) => 1 - held[log.users[e]]),
    );
    const test = filterRows(
      log,
      Uint8Array.from({ length: log.length }, (_, e) => (held[log.users[e]] === 1 && w[e] >= 4 ? 1 : 0)),
    );
    const testCsr = userItemCsr(test, nU, nI);
    const users = Int32Array.from({ length: nU }, (_, u) => u).filter(
      (u) => testCsr.offsets[u + 1] > testCsr.offsets[u],
    );
    const data: Dataset = { ...ds, train, test: null };
    const empty = userItemCsr(filterRows(log, new Uint8Array(log.length)), nU, nI);
    ctx.log(
      `types split ${split}: ml-100k, ${users.length} withheld users with a rating ≥ 4, ${train.length} train rows`,
    );
    const runs: [string, Recommender | null][] = [
      // the paper's design: cross user types, listing types, rejections as hard negatives
      ["airbnb-types", new AirbnbTypes({ workers: 0, userFields, epochs, popularityBands })],
      // cold-start setting: rare cross types back off to coarser ones, every rating is a booking,
      // items scored by their own context vectors
      [
        "airbnb-types-items",
        new AirbnbTypes({
          workers: 0,
          userFields,
          epochs: 2 * epochs,
          popularityBands,
          outputs: "items",
          minTypeUsers: 100,
          positiveMin: 1,
          hardNegatives: 0,
        }),
      ],
      ["popular", new Popular()],
      ["popular-by-age", null],
    ];
    for (const [name, m] of runs) {
      let lists: TopK;
      let fit = 0;
      let params: Record<string, unknown> = {};
      if (m === null) {
        lists = popularByGroup(data, users, userFields[0] ?? "age", K);
        params = { field: userFields[0] ?? "age" };
      } else {
        [, fit] = await timed(() => m.fit(data));
        lists = await m.recommend(users, K);
        params = m.params();
      }
      const rep = evaluateTopK(lists, users, empty, testCsr, { ks: [K] });
      const metrics = {
        [`recall@${K}`]: rep.metrics[`recall@${K}`],
        [`hitrate@${K}`]: rep.metrics[`hitrate@${K}`],
        [`ndcg@${K}`]: rep.metrics[`ndcg@${K}`],
        users: users.length,
      };
      const acc = sums.get(name) ?? { recall: 0, ndcg: 0, hr: 0, n: 0 };
      acc.recall += metrics[`recall@${K}`];
      acc.ndcg += metrics[`ndcg@${K}`];
      acc.hr += metrics[`hitrate@${K}`];
      acc.n++;
      sums.set(name, acc);
      ctx.log(
        `types ${split} ${name}: Recall@${K} ${metrics[`recall@${K}`].toFixed(4)}  HR@${K} ${metrics[`hitrate@${K}`].toFixed(4)}  NDCG@${K} ${metrics[`ndcg@${K}`].toFixed(4)}`,
      );
      ctx.emit({
        suite: "sessions",
        dataset: "ml-100k-cold-users",
        model: name,
        params: { ...params, coldShare: share, split },
        metrics,
        seconds: { fit },
        peakRssMB: peakRssMB(),
      });
    }
  }
  for (const [name, a] of sums)
    ctx.log(
      `types mean over ${a.n} splits ${name}: Recall@${K} ${(a.recall / a.n).toFixed(4)}  HR@${K} ${(a.hr / a.n).toFixed(4)}  NDCG@${K} ${(a.ndcg / a.n).toFixed(4)}`,
    );
}

/**
 * Popularity within the user's value of one attribute (e.g. age band), counted over the training
 * rows — the simplest demographic recommender, for scale. Users without the attribute get the
 * overall counts.
 */
function popularByGroup(data: Dataset, users: Int32Array, field: string, k: number): TopK {
  const f = data.userAttributes.get(field);
  const nI = data.items.size;
  const group = (u: number) =>
    f === undefined || u >= f.csr.nRows || f.csr.offsets[u + 1] === f.csr.offsets[u]
      ? -1
      : f.csr.indices[f.csr.offsets[u]];
  const counts = new Map<number, Float64Array>();
  const all = new Float64Array(nI);
  for (let e = 0; e < data.train.length; e++) {
    const g = group(data.train.users[e]);
    let c = counts.get(g);
    if (c === undefined) {
      c = new Float64Array(nI);
      counts.set(g, c);
    }
    c[data.train.items[e]]++;
    all[data.train.items[e]]++;
  }
  const out = new TopK(users.length, k);
  users.forEach((u, r) => {
    const c = counts.get(group(u)) ?? all;
    // ties broken by the overall count
    const order = Int32Array.from({ length: nI }, (_, i) => i).sort(
      (a, b) => c[b] - c[a] || all[b] - all[a] || a - b,
    );
    for (let j = 0; j < k && j < nI; j++) {
      out.ids[r * k + j] = order[j];
      out.scores[r * k + j] = c[order[j]];
    }
    out.counts[r] = Math.min(k, nI);
  });
  return out;
}
