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

test("visit-rank band hard negatives: items of the query's ranking within [from, to)", async () => {
  const { PinSageCore } = await import("../encoders/pinsage.ts");
  const { buildBipartiteGraph } = await import("../graph/bipartite.ts");
  const { visitRankBand } = await import("../train/graph-negatives.ts");
  const { Rng } = await import("../math/rng.ts");
  const core = new PinSageCore({ dim: 8, topT: 3, walk: { steps: 2000, keep: 400 } });
  const g = buildBipartiteGraph(P.data.train, nU, P.data.items.size);
  core.prepareGraph(g, new Rng(1));
  const r = (core.importance as NonNullable<typeof core.importance>).ranking;
  const src = visitRankBand(core, { from: 2, to: 5 });
  const rng = new Rng(3);
  for (const u of [0, 17, 150]) {
    const band: number[] = [];
    for (let e = r.offsets[u]; e < r.offsets[u + 1]; e++)
      if (r.indices[e] >= nU) band.push(r.indices[e] - nU);
    const want = new Set(band.slice(2, 5));
    const got = new Set<number>();
    for (let k = 0; k < 200; k++) got.add(src(u, 0, rng));
    assert.deepEqual(got, want, `user ${u}: the band's three items, nothing else`);
  }
  assert.equal(visitRankBand(core, { from: 10_000, to: 20_000 })(0, 0, rng), -1);
  // end to end: PinSage with BPR and band negatives still learns the clusters
  const m = createModel("pinsage", {
    dim: 16,
    epochs: 12,
    batchSize: 128,
    lr: 0.01,
    seed: 3,
    loss: "bpr",
    hardNegatives: { from: 5, to: 40, ratio: 4 },
  }) as EmbeddingModel;
  await m.fit(P.data);
  assert.ok(top1InCluster(m) >= 0.7, `top-1 in own cluster ${top1InCluster(m)}`);
});
