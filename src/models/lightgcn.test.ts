import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { userItemCsr } from "../data/matrix.ts";
import { createModel, loadModel } from "../registry.ts";
import { plantedClusters } from "../train/fixtures.ts";
import type { EmbeddingModel } from "./embedding-model.ts";
import { LightGcn } from "./lightgcn.ts";

const P = plantedClusters(7);
const nU = P.data.users.size;
const train = userItemCsr(P.data.train, nU, P.data.items.size);
const all = Int32Array.from({ length: nU }, (_, u) => u);

function top1InCluster(m: EmbeddingModel): number {
  const top = m.recommend(all, 1, { exclude: train });
  let hit = 0;
  for (let u = 0; u < nU; u++) if (P.itemCluster[top.ids[u]] === P.userCluster[u]) hit++;
  return hit / nU;
}

test("LightGCN (softmax, cosine) learns planted clusters; deterministic; save/load round trip", async () => {
  const o = { dim: 16, layers: 2, epochs: 15, batchSize: 128, nGlobal: 32, seed: 3 };
  const m = await new LightGcn(o).fit(P.data);
  assert.ok(top1InCluster(m) >= 0.9, `top-1 in own cluster: ${top1InCluster(m)}`);
  const again = await new LightGcn(o).fit(P.data);
  assert.deepEqual(again.embeddings().items, m.embeddings().items, "same seed, same vectors");
  const dir = await mkdtemp(join(tmpdir(), "lightgcn-"));
  try {
    await m.save(dir);
    const back = (await loadModel(dir)) as EmbeddingModel;
    assert.equal(back.kind, "lightgcn");
    assert.deepEqual(
      back.recommend(all, 5, { exclude: train }).ids,
      m.recommend(all, 5, { exclude: train }).ids,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("LightGCN with the paper's BPR loss through the registry", async () => {
  const m = createModel("lightgcn", {
    dim: 16,
    layers: 2,
    loss: "bpr",
    epochs: 20,
    batchSize: 256,
    lr: 0.05,
    seed: 1,
  }) as EmbeddingModel;
  await m.fit(P.data);
  assert.ok(top1InCluster(m) >= 0.8, `top-1 in own cluster: ${top1InCluster(m)}`);
  assert.throws(() => createModel("lightgcn", { hops: 2 }), /no option "hops"/);
});
