import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { IdMap } from "../data/id-map.ts";
import { interactions } from "../data/interactions.ts";
import { userItemCsr } from "../data/matrix.ts";
import { splitRandom, withSplit } from "../data/split.ts";
import { synthesize } from "../data/synthetic.ts";
import { encoderContext } from "../encoders/contract.ts";
import { idTable } from "../encoders/id-table.ts";
import { spectralStart } from "../encoders/spectral-init.ts";
import { historyCsr } from "../encoders/tower.ts";
import type { Encoder, EncoderContext } from "../encoders/types.ts";
import { evaluate } from "../eval/evaluate.ts";
import * as losses from "../losses/index.ts";
import { Rng } from "../math/rng.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import { createModel } from "../registry.ts";
import { sgd } from "../train/optimizers/sgd.ts";
import { trainTwoTower } from "../train/two-tower.ts";
import type { Dataset } from "../types.ts";
import { TwoTower, type TwoTowerOptions, twoTowerRecipe } from "./two-tower.ts";

const data = synthesize({ seed: 3, nUsers: 60, nItems: 40 });

test("two-tower: decoupling — an item's vector does not depend on the user side or on the batch", () => {
  const r = twoTowerRecipe({ dim: 8, embDim: 4, layers: [6], pooling: "attention" });
  const ctx = (nRows: number): EncoderContext => ({
    nRows,
    rng: new Rng(1),
    data,
    bags: null,
    optimizer: sgd({ lr: 0.1 }),
    sharedMemory: false,
  });
  r.query.prepare(ctx(data.users.size));
  r.item.prepare(ctx(data.items.size));
  const d = 8;
  const alone = new Float32Array(d);
  r.item.forwardInto(Int32Array.of(7), 1, alone);
  const users = new Float32Array(3 * d);
  r.query.forwardInto(Int32Array.of(0, 5, 9), 3, users);
  const inBatch = new Float32Array(4 * d);
  r.item.forwardInto(Int32Array.of(3, 7, 1, 7), 4, inBatch);
  r.query.forwardInto(Int32Array.of(11, 12), 2, users);
  const again = new Float32Array(d);
  r.item.forwardInto(Int32Array.of(7), 1, again);
  assert.deepEqual(inBatch.slice(d, 2 * d), alone);
  assert.deepEqual(inBatch.slice(3 * d, 4 * d), alone);
  assert.deepEqual(again, alone);
  // the user side really does depend on its input
  assert.notDeepEqual(users.slice(0, d), users.slice(d, 2 * d));
});

/** An id table that records what the loop hands it: outputs and the gradients it receives. */
class Recording implements Encoder {
  readonly name = "recording";
  readonly table = null;
  vecs = new Float32Array(0);
  grad = new Float64Array(0);
  constructor(readonly dim: number) {}
  prepare(c: EncoderContext): void {
    const rng = new Rng(c.nRows * 7 + 1);
    this.vecs = new Float32Array(c.nRows * this.dim).map(() => rng.normal());
    this.grad = new Float64Array(c.nRows * this.dim);
  }
  forwardInto(ids: Int32Array, n: number, out: Float32Array): void {
    for (let i = 0; i < n; i++)
      out.set(this.vecs.subarray(ids[i] * this.dim, (ids[i] + 1) * this.dim), i * this.dim);
  }
  backward(ids: Int32Array, n: number, dOut: Float32Array): void {
    for (let i = 0; i < n; i++)
      for (let j = 0; j < this.dim; j++) this.grad[ids[i] * this.dim + j] += dOut[i * this.dim + j];
  }
  exportAll(): Float32Array {
    return this.vecs.slice();
  }
  parameters(): Float32Array[] {
    return [this.vecs];
  }
}

test("two-tower loop: in-batch softmax (cosine, τ, −log Q, accidental hits) and its gradient vs a direct reference", async () => {
  // 6 pairs, one batch; item 2 is the target of three rows (accidental hits); counts-based Q
  const q = Int32Array.of(0, 1, 2, 3, 4, 0);
  const t = Int32Array.of(2, 0, 2, 1, 3, 2);
  const tau = 0.2;
  const d = 3;
  const qt = new Recording(d);
  const it = new Recording(d);
  const recipe = {
    positives: positives.pairs({ q, t, nQueries: 5, nTargets: 4 }),
    negatives: negatives.inBatch(),
    query: qt,
    item: it,
    loss: losses.softmax({
      transforms: [
        losses.transforms.temperature(tau),
        losses.transforms.logQ(),
        losses.transforms.accidentalHits(),
      ],
    }),
    score: "cosine" as const,
  };
  const { report } = await trainTwoTower(recipe, data, {
    epochs: 1,
    batchSize: 16,
    optimizer: sgd({ lr: 0.1 }),
  });
  const counts = [1, 1, 3, 1];
  const logQ = counts.map((c) => Math.log(c / 6));
  // reference in float64 over the tables, pairs in any order (the loss is a mean over rows)
  const U0 = Float64Array.from(qt.vecs);
  const V0 = Float64Array.from(it.vecs);
  const loss = (U: Float64Array, V: Float64Array): number => {
    const unit = (X: Float64Array, r: number) => {
      const v = Array.from(X.subarray(r * d, (r + 1) * d));
      const nrm = Math.hypot(...v);
      return v.map((x) => x / nrm);
    };
    let L = 0;
    for (let i = 0; i < q.length; i++) {
      const u = unit(U, q[i]);
      const logits: number[] = [];
      let pos = 0;
      for (let j = 0; j < q.length; j++) {
        if (j !== i && t[j] === t[i]) continue; // accidental hit
        const v = unit(V, t[j]);
        const s = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / tau - logQ[t[j]];
        logits.push(s);
        if (j === i) pos = s;
      }
      const mx = Math.max(...logits);
      L += -pos + mx + Math.log(logits.reduce((a, s) => a + Math.exp(s - mx), 0));
    }
    return L / q.length;
  };
  assert.ok(
    Math.abs(report.history[0].loss - loss(U0, V0)) < 1e-4,
    `loss ${report.history[0].loss} vs ${loss(U0, V0)}`,
  );
  const fdCheck = (X: Float64Array, grad: Float64Array, which: string) => {
    for (let e = 0; e < X.length; e++) {
      const h = 1e-5;
      const up = Float64Array.from(X);
      const dn = Float64Array.from(X);
      up[e] += h;
      dn[e] -= h;
      const g =
        which === "U" ? (loss(up, V0) - loss(dn, V0)) / (2 * h) : (loss(U0, up) - loss(U0, dn)) / (2 * h);
      assert.ok(Math.abs(g - grad[e]) < 1e-4, `${which}[${e}]: loop ${grad[e]}, reference ${g}`);
    }
  };
  fdCheck(U0, qt.grad, "U");
  fdCheck(V0, it.grad, "V");
});

test("mixed negatives: Q is the |B|:|B'| mixture of in-batch and global Q and sums to 1 over the catalogue", () => {
  const nItems = 6;
  const counts = Float64Array.of(5, 1, 0, 2, 8, 4);
  const nGlobal = 10;
  const m = negatives.mixed({
    global: negatives.popularity({ power: 0.5, smoothing: 1, shared: true, count: nGlobal }),
    nGlobal,
  });
  m.prepare({ nItems, counts, batchesPerEpoch: 3 });
  const rows = 4;
  const req = { rows, queryIds: new Int32Array(rows), posIds: Int32Array.of(0, 4, 4, 5), step: 0 };
  m.sampleInto(new Rng(1), req, new Int32Array(nGlobal));
  m.observe(req);
  const ids = Int32Array.from({ length: nItems }, (_, i) => i);
  const lq = new Float32Array(nItems);
  m.logQInto(ids, nItems, lq, 0);
  const total = counts.reduce((a, b) => a + b, 0);
  const g = Array.from(counts, (c) => Math.sqrt(c + 1));
  const gTotal = g.reduce((a, b) => a + b, 0);
  let sum = 0;
  for (let i = 0; i < nItems; i++) {
    const want =
      (rows / (rows + nGlobal)) * (counts[i] / total) + (nGlobal / (rows + nGlobal)) * (g[i] / gTotal);
    assert.ok(Math.abs(Math.exp(lq[i]) - want) < 1e-6, `item ${i}: ${Math.exp(lq[i])} vs ${want}`);
    sum += Math.exp(lq[i]);
  }
  assert.ok(Math.abs(sum - 1) < 1e-6, `ΣQ = ${sum}`);
});

test("streaming frequency estimator (Yi et al.): gaps converge to 1/p on a stream with known rates", () => {
  const s = negatives.inBatch({ estimator: "streaming", alpha: 0.01, warmStart: false });
  const nItems = 5;
  const p = [0.5, 0.2, 0.1, 0.05, 0.02]; // chance that an item appears in a batch
  s.prepare({ nItems, counts: new Float64Array(nItems), batchesPerEpoch: 100 });
  const rng = new Rng(9);
  const rows = 8;
  const posIds = new Int32Array(rows);
  for (let step = 0; step < 20000; step++) {
    let n = 0;
    for (let y = 0; y < nItems; y++) if (rng.next() < p[y]) posIds[n++] = y;
    if (n === 0) continue;
    // pad rows beyond n with the first item seen (counted once per step, so it changes nothing)
    for (let r = n; r < rows; r++) posIds[r] = posIds[0];
    s.observe({ rows, queryIds: new Int32Array(rows), posIds, step });
  }
  const lq = new Float32Array(nItems);
  s.logQInto(
    Int32Array.from({ length: nItems }, (_, i) => i),
    nItems,
    lq,
    0,
  );
  for (let y = 0; y < nItems; y++) {
    const perStep = Math.exp(lq[y]) * rows; // Q·rows = 1/δ ≈ p
    assert.ok(
      Math.abs(perStep - p[y]) < 0.2 * p[y],
      `item ${y}: estimated ${perStep.toFixed(4)}, true ${p[y]}`,
    );
  }
});

test("two-tower model: fits, serves unseen users online, save/load round-trips", async () => {
  const m = new TwoTower({ epochs: 2, batchSize: 64, dim: 8, embDim: 4, layers: [8], idDropout: 0.3 });
  await m.fit({ ...data, test: null });
  const e = m.embeddings();
  assert.equal(e.items.length, data.items.size * 8);
  assert.ok(m.report !== null && Number.isFinite(m.report.history[1].loss));
  // an unseen user: no id, a short history and an attribute
  const field = [...data.userAttributes.keys()][0];
  const value = data.userAttributes.get(field)?.vocab.id(0) as string;
  const feats = { history: [1, 2, 3], attributes: { [field]: [value] } };
  const a = m.recommendFor(feats, 5, [1, 2, 3]);
  assert.equal(a.counts[0], 5);
  for (let j = 0; j < 5; j++) assert.ok(![1, 2, 3].includes(a.ids[j]));
  const b = m.recommendFor({ history: [30, 31, 32] }, 5);
  assert.notDeepEqual(Array.from(a.ids), Array.from(b.ids));
  const dir = await mkdtemp(join(tmpdir(), "rk-two-tower-"));
  try {
    await m.save(dir);
    const l = await TwoTower.load(dir);
    assert.deepEqual(l.embeddings().items, e.items);
    assert.deepEqual(l.userVector(feats), m.userVector(feats));
    assert.deepEqual(
      Array.from(l.recommendFromItems(Int32Array.of(4, 5), 5).ids),
      Array.from(m.recommendFromItems(Int32Array.of(4, 5), 5).ids),
    );
    assert.deepEqual(
      Array.from(l.recommend(Int32Array.of(0, 1), 5).ids),
      Array.from(m.recommend(Int32Array.of(0, 1), 5).ids),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("two-tower model: i2i and u2u scenarios train from the same API", async () => {
  const i2i = new TwoTower({ scenario: "i2i", epochs: 1, batchSize: 64, dim: 8, embDim: 4, layers: [8] });
  await i2i.fit({ ...data, test: null });
  assert.equal(i2i.recommendFromItems(Int32Array.of(1, 2), 4).counts[0], 4);
  const r = twoTowerRecipe({ scenario: "u2u", dim: 8, embDim: 4, layers: [8] });
  const { report, info } = await trainTwoTower(r, data, { epochs: 1, batchSize: 32 });
  assert.equal(info.nQueries, 2 * data.users.size);
  assert.ok(Number.isFinite(report.history[0].loss));
});

test("two-tower model: optional hard negatives are drawn from the given source", async () => {
  let calls = 0;
  const m = new TwoTower({
    epochs: 1,
    batchSize: 64,
    dim: 8,
    embDim: 4,
    layers: [8],
    hard: (_q, pos) => {
      calls++;
      return (pos + 1) % data.items.size;
    },
  });
  await m.fit({ ...data, test: null });
  assert.ok(calls > 0, "the hard-negative source was never asked");
  assert.ok(m.report !== null && Number.isFinite(m.report.history[0].loss));
});

test("two-tower loop: mixed negatives from the item-vector cache score like fresh ones, without item gradients", async () => {
  const q = Int32Array.of(0, 1, 2, 3, 4, 0);
  const t = Int32Array.of(2, 0, 2, 1, 3, 5);
  const run = async (negativeCache: boolean) => {
    const qt = new Recording(3);
    const it = new Recording(3);
    const recipe = {
      positives: positives.pairs({ q, t, nQueries: 5, nTargets: 8 }),
      negatives: negatives.mixed({ global: negatives.uniform({ count: 4, shared: true }), nGlobal: 4 }),
      query: qt,
      item: it,
      loss: losses.softmax({
        transforms: [
          losses.transforms.temperature(0.5),
          losses.transforms.logQ(),
          losses.transforms.accidentalHits(),
        ],
      }),
      score: "cosine" as const,
    };
    const { report } = await trainTwoTower(recipe, data, {
      epochs: 1,
      batchSize: 16,
      negativeCache,
      seed: 3,
    });
    return { loss: report.history[0].loss, qGrad: qt.grad, iGrad: it.grad, path: report.path };
  };
  const cached = await run(true);
  const fresh = await run(false);
  assert.equal(cached.path, "two-tower(cached negatives)");
  assert.ok(Math.abs(cached.loss - fresh.loss) < 1e-6, `${cached.loss} vs ${fresh.loss}`);
  for (let e = 0; e < cached.qGrad.length; e++) assert.ok(Math.abs(cached.qGrad[e] - fresh.qGrad[e]) < 1e-6);
  // items that are only sampled negatives (never positives) get gradient only without the cache
  const onlyNeg = [4, 6, 7].filter((i) => fresh.iGrad.subarray(i * 3, i * 3 + 3).some((g) => g !== 0));
  assert.ok(onlyNeg.length > 0, "no global negative drawn among items 4, 6, 7");
  for (const i of onlyNeg) assert.deepEqual(Array.from(cached.iGrad.subarray(i * 3, i * 3 + 3)), [0, 0, 0]);
});

/** Planted clusters: user u and her items belong to cluster u % 4 (10 items each, 8 drawn per user). */
function clustered(): Dataset {
  const nUsers = 80;
  const nItems = 40;
  const rng = new Rng(11);
  const us: number[] = [];
  const is: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const c = u % 4;
    const perm = rng.shuffle(Int32Array.from({ length: 10 }, (_, j) => c * 10 + j));
    for (let j = 0; j < 8; j++) {
      us.push(u);
      is.push(perm[j]);
    }
  }
  const users = new IdMap();
  for (let u = 0; u < nUsers; u++) users.add(`u${u}`);
  const items = new IdMap();
  for (let i = 0; i < nItems; i++) items.add(`i${i}`);
  return {
    name: "planted-u2u",
    users,
    items,
    train: interactions({ users: Int32Array.from(us), items: Int32Array.from(is) }),
    test: null,
    itemAttributes: new Map(),
    userAttributes: new Map(),
    itemStats: null,
  };
}

/** The u2u options both u2u tests train with (library class and registry). */
const U2U_OPTIONS: TwoTowerOptions = {
  scenario: "u2u",
  epochs: 30,
  batchSize: 16,
  dim: 8,
  embDim: 8,
  layers: [16],
  lr: 0.01,
  neighbors: 5,
};

test("two-tower u2u: similar users come from the planted cluster; U2U2I recommends the cluster's unseen items", async () => {
  const d = clustered();
  const m = new TwoTower(U2U_OPTIONS);
  await m.fit(d);
  assert.equal(m.embeddings, undefined, "a u2u model has no item vectors for the factor fast path");
  let same = 0;
  let total = 0;
  for (let u = 0; u < 80; u++) {
    const nb = m.similarUsers(u, 5);
    assert.equal(nb.counts[0], 5);
    for (let j = 0; j < 5; j++) {
      assert.notEqual(nb.ids[j], u, "a user is not her own neighbour");
      if (nb.ids[j] % 4 === u % 4) same++;
      total++;
    }
  }
  // chance is 19/79 ≈ 0.24
  assert.ok(same / total >= 0.8, `only ${same}/${total} similar users share the cluster`);
  // a history alone (unseen user): items 0..3 of cluster 0
  const fromHist = m.similarUsers(Int32Array.of(0, 1, 2, 3), 5);
  assert.ok(Array.from(fromHist.ids).filter((v) => v % 4 === 0).length >= 4, `${fromHist.ids}`);
  // recommend: seen items masked, the 2 unseen items of the user's cluster on top
  const train = d.train;
  const seen = Array.from({ length: 80 }, () => new Set<number>());
  for (let e = 0; e < train.length; e++) seen[train.users[e]].add(train.items[e]);
  const offsets = Int32Array.from({ length: 81 }, (_, u) => u * 8);
  const indices = Int32Array.from(seen.flatMap((s) => [...s].sort((a, b) => a - b)));
  const users = Int32Array.from({ length: 80 }, (_, u) => u);
  const top = m.recommend(users, 2, { exclude: { nRows: 80, nCols: 40, offsets, indices, values: null } });
  let hits = 0;
  for (let u = 0; u < 80; u++)
    for (let j = 0; j < 2; j++) {
      const i = top.ids[u * 2 + j];
      assert.ok(!seen[u].has(i), `user ${u} got seen item ${i}`);
      if (Math.floor(i / 10) === u % 4) hits++;
    }
  assert.ok(hits / 160 >= 0.9, `only ${hits}/160 recommended items are in the user's cluster`);
  // U2U2I by hand for user 0: Σ similarity over the neighbours' items
  const nb0 = m.similarUsers(0, 5);
  const acc = new Float64Array(40);
  for (let j = 0; j < 5; j++)
    if (nb0.scores[j] > 0)
      for (let e = 0; e < 80 * 8; e++)
        if (train.users[e] === nb0.ids[j]) acc[train.items[e]] += nb0.scores[j];
  const one = m.recommend(Int32Array.of(0), 1);
  assert.ok(Math.abs(one.scores[0] - Math.max(...acc)) < 1e-5, `${one.scores[0]} vs ${Math.max(...acc)}`);
  assert.throws(() => new TwoTower({ dim: 4 }).similarUsers(0, 1), /fit/);
});

test("two-tower u2u: save/load round-trip serves the same similar users and recommendations", async () => {
  const d = clustered();
  const m = new TwoTower({ scenario: "u2u", epochs: 2, batchSize: 16, dim: 8, embDim: 4, layers: [8] });
  await m.fit(d);
  const dir = await mkdtemp(join(tmpdir(), "rk-u2u-"));
  try {
    await m.save(dir);
    const l = await TwoTower.load(dir);
    assert.equal(l.embeddings, undefined);
    const users = Int32Array.from({ length: 80 }, (_, u) => u);
    const a = m.recommend(users, 5);
    const b = l.recommend(users, 5);
    assert.deepEqual(b.ids, a.ids);
    assert.deepEqual(b.scores, a.scores);
    const h = Int32Array.of(3, 14, 25);
    assert.deepEqual(l.similarUsers(h, 4).ids, m.similarUsers(h, 4).ids);
    assert.deepEqual(l.similarUsers(h, 4).scores, m.similarUsers(h, 4).scores);
    assert.deepEqual(l.recommendFromItems(h, 5).ids, m.recommendFromItems(h, 5).ids);
    assert.deepEqual(l.params(), m.params());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("two-tower u2u: built by the registry, evaluated through recommend (no factor fast path)", async () => {
  const d = clustered();
  const seen = Array.from({ length: 80 }, () => new Set<number>());
  for (let e = 0; e < d.train.length; e++) seen[d.train.users[e]].add(d.train.items[e]);
  const csr = (rows: number[][]) => {
    const offsets = new Int32Array(rows.length + 1);
    rows.forEach((r, u) => {
      offsets[u + 1] = offsets[u] + r.length;
    });
    return { nRows: 80, nCols: 40, offsets, indices: Int32Array.from(rows.flat()), values: null };
  };
  const train = csr(seen.map((s) => [...s].sort((a, b) => a - b)));
  // held out: the user's cluster items she has not seen (2 each)
  const held = seen.map((s, u) =>
    Array.from({ length: 10 }, (_, j) => (u % 4) * 10 + j).filter((i) => !s.has(i)),
  );
  const test = csr(held);
  const m = createModel("two-tower", { ...U2U_OPTIONS }) as TwoTower;
  await m.fit(d);
  const r = await evaluate(m, train, test, { ks: [2], workers: 0 });
  const top = m.recommend(
    Int32Array.from({ length: 80 }, (_, u) => u),
    2,
    { exclude: train },
  );
  let hits = 0;
  for (let u = 0; u < 80; u++) for (let j = 0; j < 2; j++) if (held[u].includes(top.ids[u * 2 + j])) hits++;
  assert.ok(Math.abs(r.metrics["recall@2"] - hits / 160) < 1e-9, `${r.metrics["recall@2"]} vs ${hits / 160}`);
  assert.ok(r.metrics["recall@2"] >= 0.8, `recall@2 ${r.metrics["recall@2"]}`);
});

/** A Recording query tower that also logs the batch targets the loop hands it (`setTargets`). */
class TargetLog extends Recording {
  seen: number[] = [];
  setTraining(_on: boolean): void {}
  setTargets(t: Int32Array | null): void {
    if (t !== null) this.seen.push(...t);
  }
}

test("two-tower loop: only item targets are handed to the query tower for history removal (not u2u halves)", async () => {
  const run = async (pos: ReturnType<typeof positives.userItem>) => {
    const qt = new TargetLog(4);
    const recipe = {
      positives: pos,
      negatives: negatives.inBatch(),
      query: qt,
      item: new Recording(4),
      loss: losses.softmax({ transforms: [losses.transforms.temperature(0.5)] }),
      score: "cosine" as const,
    };
    await trainTwoTower(recipe, data, { epochs: 1, batchSize: 32 });
    return qt.seen;
  };
  const q = Int32Array.of(0, 1, 2, 3, 4, 0, 7);
  const t = Int32Array.of(2, 0, 2, 1, 3, 5, 9);
  const nU = data.users.size;
  const nI = data.items.size;
  const u2i = await run(positives.pairs({ q, t, nQueries: nU, nTargets: nI, querySpace: "users" }));
  assert.deepEqual(
    [...u2i].sort((a, b) => a - b),
    Array.from(t).sort((a, b) => a - b),
  );
  // u2u targets are history halves 2u + 1, not items: nothing may be removed by id
  assert.deepEqual(await run(positives.userSplit()), []);
});

test("two-tower: loss ccl (SimpleX's cosine contrastive loss) trains the towers; a bad loss name is refused", async () => {
  assert.equal(twoTowerRecipe({ loss: "ccl" }).loss.name, "ccl(0.9,150)[accidentalHits]");
  assert.throws(
    () => twoTowerRecipe({ loss: "hinge" as "ccl" }),
    /two-tower: loss must be "softmax" or "ccl"/,
  );
  const log = synthesize({ seed: 5, nUsers: 300, nItems: 120 });
  const split = withSplit(log, splitRandom(log.train, { seed: 2 }));
  const recallOf = async (epochs: number) => {
    const m = new TwoTower({
      loss: "ccl",
      negatives: "mixed",
      nGlobal: 64,
      epochs,
      batchSize: 64,
      dim: 16,
      embDim: 16,
      layers: [],
      lr: 0.01,
      seed: 1,
    });
    await m.fit(split);
    const nU = split.users.size;
    const nI = split.items.size;
    const r = await evaluate(
      m,
      userItemCsr(split.train, nU, nI),
      userItemCsr(split.test as typeof split.train, nU, nI),
      { ks: [10] },
    );
    return r.metrics["recall@10"];
  };
  const before = await recallOf(1);
  const after = await recallOf(8);
  assert.ok(after > before + 0.02, `recall@10 after 8 epochs ${after} vs 1 epoch ${before}`);
});

test('two-tower start "spectral": the towers begin at the spectral rows; save/load; refused outside u2i linear towers', async () => {
  const o = { dim: 6, embDim: 6, layers: [], userAttributes: [], itemAttributes: [], batchSize: 64 } as const;
  const m = new TwoTower({ ...o, start: "spectral", epochs: 1, lr: 1e-12 });
  await m.fit({ ...data, test: null });
  // the same rows, read through the encoders the model uses
  const s = spectralStart({ scale: 0.05, sides: ["query", "item", "history"] });
  const ctx = (nRows: number) => encoderContext(nRows, data);
  const items = idTable({ dim: 6, start: s.item });
  items.prepare(ctx(data.items.size));
  const users = idTable({ dim: 6, start: s.query });
  users.prepare(ctx(data.users.size));
  const hist = idTable({ dim: 6, start: s.history });
  hist.prepare(ctx(data.items.size));
  const e = m.embeddings();
  const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let d = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < a.length; j++) {
      d += a[j] * b[j];
      na += a[j] ** 2;
      nb += b[j] ** 2;
    }
    return d / Math.sqrt(na * nb);
  };
  for (let i = 0; i < data.items.size; i++)
    assert.ok(cos(e.items.subarray(i * 6, i * 6 + 6), items.table.subarray(i * 6, i * 6 + 6)) > 1 - 1e-5);
  const h = historyCsr(data, data.users.size);
  for (const u of [0, 7, 21]) {
    const want = Float64Array.from(users.table.subarray(u * 6, u * 6 + 6));
    const its = Array.from(h.indices.subarray(h.offsets[u], h.offsets[u + 1])).slice(-50);
    for (const i of its) for (let j = 0; j < 6; j++) want[j] += hist.table[i * 6 + j] / its.length;
    assert.ok(cos(e.users.subarray(u * 6, u * 6 + 6), want) > 1 - 1e-5, `user ${u}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "rk-two-tower-"));
  try {
    await m.save(dir);
    const l = await TwoTower.load(dir);
    assert.deepEqual(l.embeddings().items, e.items);
    assert.deepEqual(l.userVector({ history: [1, 2] }), m.userVector({ history: [1, 2] }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.throws(
    () => twoTowerRecipe({ ...o, start: "spectral", scenario: "i2i" }, data),
    /needs the u2i scenario/,
  );
  assert.throws(
    () => twoTowerRecipe({ ...o, start: "svd" as "spectral" }),
    /start must be "random" or "spectral"/,
  );
  assert.throws(() => twoTowerRecipe({ start: "spectral" }), /a start needs layers \[\] and embDim = dim/);
  assert.throws(
    () => twoTowerRecipe({ freezeHistory: true, pooling: "attention" }),
    /a frozen history needs mean pooling/,
  );
});

test("two-tower freezeHistory: trains from the spectral start and serves a user from her history", async () => {
  const o = { dim: 6, embDim: 6, layers: [], userAttributes: [], itemAttributes: [], batchSize: 64 } as const;
  const m = await new TwoTower({ ...o, start: "spectral", freezeHistory: true, epochs: 3 }).fit({
    ...data,
    test: null,
  });
  const trace = m.report?.history.map((h) => h.loss) ?? [];
  assert.ok(trace.length === 3 && trace.every(Number.isFinite));
  assert.ok(trace[2] < trace[0], "the loss falls");
  // online, the tower pools the same frozen rows it was trained on: a known user's vector from her
  // id and history equals the exported one
  const h = historyCsr(data, data.users.size);
  const u = 5;
  const v = m.userVector({ id: u, history: h.indices.subarray(h.offsets[u], h.offsets[u + 1]) });
  const e = m.embeddings().users.subarray(u * 6, u * 6 + 6);
  for (let j = 0; j < 6; j++) assert.ok(Math.abs(v[j] - e[j]) < 1e-5);
});

test('two-tower negatives "global" and outputLayer false: shared uniform negatives only; towers of embedding rows alone', async () => {
  const r = twoTowerRecipe({
    negatives: "global",
    nGlobal: 16,
    layers: [],
    embDim: 8,
    dim: 8,
    outputLayer: false,
    itemAttributes: [],
  });
  assert.equal(r.negatives.shared, true);
  assert.equal(r.negatives.inBatch, false);
  const ctx = (nRows: number): EncoderContext => encoderContext(nRows, data);
  r.query.prepare(ctx(data.users.size));
  r.item.prepare(ctx(data.items.size));
  // no dense layer: one parameter array (the embedding rows), and an item's vector is its id row
  assert.equal(r.item.parameters().length, 1);
  const v = new Float32Array(8);
  r.item.forwardInto(Int32Array.of(3), 1, v);
  assert.deepEqual(Array.from(v), Array.from(r.item.parameters()[0].subarray(3 * 8, 4 * 8)));
  const m = await new TwoTower({
    negatives: "global",
    nGlobal: 16,
    loss: "ccl",
    layers: [],
    embDim: 8,
    dim: 8,
    outputLayer: false,
    epochs: 2,
    batchSize: 64,
  }).fit({ ...data, test: null });
  assert.ok(m.report?.history.every((h) => Number.isFinite(h.loss)));
  const dir = await mkdtemp(join(tmpdir(), "rk-two-tower-"));
  try {
    await m.save(dir);
    const l = await TwoTower.load(dir);
    assert.deepEqual(l.embeddings().items, m.embeddings().items);
    assert.deepEqual(l.userVector({ history: [1, 2] }), m.userVector({ history: [1, 2] }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.throws(
    () => twoTowerRecipe({ negatives: "hard" as "global" }),
    /negatives must be "in-batch", "mixed" or "global"/,
  );
  assert.throws(
    () => twoTowerRecipe({ outputLayer: false }),
    /outputLayer false needs layers \[\] and embDim = dim/,
  );
});
