import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { attributeField, attributeTable } from "../data/attributes.ts";
import { userItemCsr } from "../data/matrix.ts";
import { createModel, loadModel } from "../registry.ts";
import { plantedClusters } from "../train/fixtures.ts";
import type { Dataset } from "../types.ts";
import type { EmbeddingModel } from "./embedding-model.ts";

// Planted clusters with side information: an item "genre" that is its cluster for 2 items in 3
// (noise otherwise), and a user "gender" with no signal — three relations on each side's graph.
const P = plantedClusters(7);
const nU = P.data.users.size;
const nI = P.data.items.size;
const data: Dataset = {
  ...P.data,
  itemAttributes: attributeTable([
    attributeField(
      "genre",
      nI,
      Array.from({ length: nI }, (_, i) => [i, `g${i % 3 === 0 ? (i * 7) % 5 : P.itemCluster[i]}`] as const),
    ),
  ]),
  userAttributes: attributeTable([
    attributeField(
      "gender",
      nU,
      Array.from({ length: nU }, (_, u) => [u, (u * 13) % 7 < 3 ? "f" : "m"] as const),
    ),
  ]),
};
const train = userItemCsr(data.train, nU, nI);
const all = Int32Array.from({ length: nU }, (_, u) => u);

for (const name of ["multibisage", "graphtr"]) {
  test(`${name} learns planted clusters through the registry; save/load round trip`, async () => {
    const o = { dim: 16, layers: 2, epochs: 12, batchSize: 128, nGlobal: 32, lr: 0.01, seed: 3 };
    const m = createModel(name, { ...o, itemFields: "genre", userFields: ["gender"] }) as EmbeddingModel;
    await m.fit(data);
    const top = m.recommend(all, 1, { exclude: train });
    let hit = 0;
    for (let u = 0; u < nU; u++) if (P.itemCluster[top.ids[u]] === P.userCluster[u]) hit++;
    assert.ok(hit / nU >= 0.85, `${name}: top-1 in own cluster ${hit / nU}`);
    assert.deepEqual(m.params().itemFields, "genre");
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

test("heterogeneous models name unknown attribute fields", async () => {
  for (const name of ["multibisage", "graphtr"]) {
    const m = createModel(name, { itemFields: ["colour"], epochs: 1 }) as EmbeddingModel;
    await assert.rejects(() => m.fit(data), /no item attribute "colour"/);
  }
});

test("heterogeneous models: same seed, same vectors (fit twice, compare bytes)", async () => {
  for (const name of ["multibisage", "graphtr"]) {
    const fit = async () => {
      const m = createModel(name, {
        dim: 8,
        epochs: 2,
        batchSize: 128,
        nGlobal: 32,
        seed: 5,
      }) as EmbeddingModel;
      await m.fit(data);
      return m.embeddings();
    };
    const a = await fit();
    const b = await fit();
    assert.deepEqual(a.items, b.items, name);
    assert.deepEqual(a.users, b.users, name);
  }
});
