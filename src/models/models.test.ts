import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { userItemCsr } from "../data/matrix.ts";
import * as encoders from "../encoders/index.ts";
import * as losses from "../losses/index.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import { plantedClusters } from "../train/fixtures.ts";
import { adagrad } from "../train/optimizers/index.ts";
import type { EmbeddingModel } from "./index.ts";
import { EmbeddingModel as Base, MfBpr, MfSoftmax } from "./index.ts";

const P = plantedClusters(7);
const nU = P.data.users.size;
const nI = P.data.items.size;
const train = userItemCsr(P.data.train, nU, nI);
const allUsers = Int32Array.from({ length: nU }, (_, u) => u);

/** Share of users whose top-1 unseen item is in their own cluster (random: 0.2). */
function top1InCluster(m: EmbeddingModel): number {
  const top = m.recommend(allUsers, 1, { exclude: train });
  let hit = 0;
  for (let u = 0; u < nU; u++) if (P.itemCluster[top.ids[u]] === P.userCluster[u]) hit++;
  return hit / nU;
}

/** The Recommender contract every embedding model passes (implicit's test mixin). */
async function recommenderContract(name: string, m: EmbeddingModel, minTop1: number): Promise<void> {
  const share = top1InCluster(m);
  assert.ok(share >= minTop1, `${name}: top-1 in own cluster for ${share} of users`);
  // seen items are masked and lists are sorted
  const top = m.recommend(allUsers.subarray(0, 10), 5, { exclude: train });
  for (let u = 0; u < 10; u++) {
    const row = top.row(u);
    for (const it of row.ids)
      assert.ok(!train.indices.subarray(train.offsets[u], train.offsets[u + 1]).includes(it));
    for (let j = 1; j < row.scores.length; j++) assert.ok(row.scores[j] <= row.scores[j - 1]);
  }
  // batch ≡ singles
  const single = m.recommend(Int32Array.of(3), 5, { exclude: train });
  assert.deepEqual(single.row(0).ids, top.row(3).ids);
  // similar items: never the item itself; mostly the same cluster
  const sim = m.similarItems(
    Int32Array.from({ length: nI }, (_, i) => i),
    3,
  );
  let same = 0;
  for (let i = 0; i < nI; i++) {
    const r = sim.row(i);
    assert.ok(!r.ids.includes(i));
    if (P.itemCluster[r.ids[0]] === P.itemCluster[i]) same++;
  }
  assert.ok(same / nI >= 0.6, `${name}: similar items in the same cluster for ${same / nI}`);
  // recent items → their cluster, excluding them
  const recent = Int32Array.of(0, 5, 10); // cluster 0
  const fromItems = m.recommendFromItems(recent, 3, recent);
  for (const it of fromItems.row(0).ids) assert.ok(!recent.includes(it));
  assert.equal(P.itemCluster[fromItems.ids[0]], 0);
  // save → load → identical vectors and answers
  const dir = await mkdtemp(join(tmpdir(), "rk-emb-"));
  try {
    await m.save(dir);
    const back = await Base.load(dir);
    assert.equal(back.kind, m.kind);
    assert.deepEqual(back.embeddings().items, m.embeddings().items);
    assert.deepEqual(back.embeddings().users, m.embeddings().users);
    assert.deepEqual(
      back.recommend(allUsers, 5, { exclude: train }).ids,
      m.recommend(allUsers, 5, { exclude: train }).ids,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("MfBpr (fused kernel, in-process) learns planted clusters and passes the Recommender contract", async () => {
  const m = await new MfBpr({ dim: 16, epochs: 40, workers: 0, lr: 0.1, seed: 1 }).fit(P.data);
  assert.equal(m.report?.path, "fused-pairwise-sgd");
  await recommenderContract("MfBpr", m, 0.9);
});

test("MfSoftmax (mixed negatives, cosine, τ, logQ) learns planted clusters", async () => {
  const m = await new MfSoftmax({
    loss: "softmax",
    dim: 16,
    epochs: 15,
    batchSize: 128,
    nGlobal: 64,
    temperature: 0.1,
    lr: 0.02,
    seed: 1,
  }).fit(P.data);
  assert.equal(m.report?.path, "generic");
  // cosine serving: exported vectors have unit norm
  const { items, dim } = m.embeddings();
  for (let i = 0; i < 5; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += items[i * dim + j] ** 2;
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
  await recommenderContract("MfSoftmax", m, 0.9);
});

test("MfSoftmax with loss ccl (shared uniform negatives, cosine) learns planted clusters", async () => {
  const m = await new MfSoftmax({
    loss: "ccl",
    dim: 16,
    epochs: 15,
    batchSize: 128,
    nGlobal: 64,
    lr: 0.03,
    margin: 0,
    negativeWeight: 5,
    seed: 1,
  }).fit(P.data);
  assert.equal(m.report?.path, "generic");
  assert.equal(m.params().loss, "ccl");
  assert.match(String((m.params().recipe as { loss: string }).loss), /^ccl\(/);
  await recommenderContract("MfSoftmax(ccl)", m, 0.9);
});

test("a recipe no paper has, composed by the user: subsampled U2I + log-uniform negatives with hard injection + NCE + Adagrad", async () => {
  // "hard": the next item id, which is always in another cluster (clusters are i mod 5)
  const hardSource = (_q: number, pos: number) => (pos + 1) % nI;
  const m = new Base(
    {
      positives: positives.userItem({ subsample: 0.05 }),
      negatives: negatives.hard({ easy: negatives.logUniform({ count: 4 }), source: hardSource, ratio: 20 }),
      query: encoders.idTable({ dim: 16 }),
      item: encoders.idTable({ dim: 16 }),
      loss: losses.nce(),
      score: "dot",
    },
    { kind: "my-recipe", epochs: 30, batchSize: 64, optimizer: adagrad({ lr: 0.5 }), seed: 2 },
  );
  await m.fit(P.data);
  assert.equal((m.params().recipe as { loss: string }).loss, "binary[logQ]");
  assert.ok(top1InCluster(m) >= 0.8, `top-1 in cluster ${top1InCluster(m)}`);
});

test("a loaded model serves but refuses to fit; an unfitted one says so", async () => {
  const m = new MfBpr();
  assert.throws(() => m.recommend(Int32Array.of(0), 1), /RK_ERR_NOT_FITTED|fit\(\)/);
});
