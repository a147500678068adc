import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { userItemCsr } from "../data/matrix.ts";
import { createModel, loadModel } from "../registry.ts";
import { plantedClusters } from "../train/fixtures.ts";
import type { EmbeddingModel } from "./embedding-model.ts";

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

for (const name of ["pinsage", "graphsage"]) {
  test(`${name} learns planted clusters through the registry; save/load round trip`, async () => {
    const o = { dim: 16, layers: 2, epochs: 12, batchSize: 128, nGlobal: 32, lr: 0.01, seed: 3 };
    const m = createModel(name, o) as EmbeddingModel;
    await m.fit(P.data);
    const share = top1InCluster(m);
    assert.ok(share >= 0.85, `${name}: top-1 in own cluster ${share}`);
    const dir = await mkdtemp(join(tmpdir(), `${name}-`));
    try {
      await m.save(dir);
      const back = (await loadModel(dir)) as EmbeddingModel;
      assert.equal(back.kind, name);
      assert.deepEqual(back.embeddings().items, m.embeddings().items);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
