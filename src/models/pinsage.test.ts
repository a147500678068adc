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
  // end to end: PinSage with band negatives (16 per row, easy:hard 4:1) still learns the clusters
  const m = createModel("pinsage", {
    dim: 16,
    epochs: 12,
    batchSize: 128,
    lr: 0.01,
    seed: 3,
    hardNegatives: { from: 5, to: 40, ratio: 4, perRow: 16 },
  }) as EmbeddingModel;
  await m.fit(P.data);
  assert.ok(top1InCluster(m) >= 0.7, `top-1 in own cluster ${top1InCluster(m)}`);
});

// Inductive GraphSAGE (issue 7): items withheld from training entirely get vectors at inference
// from their features (attribute-value nodes) and/or their edges, with the trained weights.
test("graphsage inductive: unseen items land in their planted cluster from neighbours or features", async () => {
  const { GraphSage } = await import("./pinsage.ts");
  const { attributeField, attributeTable } = await import("../data/attributes.ts");
  const nI = P.data.items.size;
  const k = 5;
  const withheld = Int32Array.from({ length: 10 }, (_, j) => j); // two per cluster (cluster = i % 5)
  const isW = (i: number) => i < withheld.length;
  const x = P.data.train;
  const pick = (keep: (e: number) => boolean) => {
    const idx = [...Array(x.length).keys()].filter(keep);
    return {
      ...x,
      length: idx.length,
      users: Int32Array.from(idx, (e) => x.users[e]),
      items: Int32Array.from(idx, (e) => x.items[e]),
      weights: null,
    };
  };
  const genre = attributeField(
    "genre",
    nI,
    Array.from({ length: nI }, (_, i) => [i, `c${P.itemCluster[i]}`] as const),
  );
  const trainSet = {
    ...P.data,
    train: pick((e) => !isW(x.items[e])),
    itemAttributes: attributeTable([genre]),
  };
  const extra = pick((e) => isW(x.items[e]));
  const none = pick(() => false);
  // nearest cluster centroid (cosine) of the trained items, per withheld item
  const clusterOf = (items: Float32Array, d: number, i: number): number => {
    const c = new Float64Array(k * d);
    for (let t = withheld.length; t < nI; t++)
      for (let j = 0; j < d; j++) c[P.itemCluster[t] * d + j] += items[t * d + j];
    let best = -1;
    let bestS = -Infinity;
    for (let q = 0; q < k; q++) {
      let dot = 0;
      let nn = 0;
      for (let j = 0; j < d; j++) {
        dot += c[q * d + j] * items[i * d + j];
        nn += c[q * d + j] ** 2;
      }
      const s = dot / Math.sqrt(nn);
      if (s > bestS) [best, bestS] = [q, s];
    }
    return best;
  };
  const o = { dim: 16, layers: 2, epochs: 8, batchSize: 128, nGlobal: 32, lr: 0.01, seed: 3 };
  const correct = (items: Float32Array, d: number) =>
    [...withheld].filter((i) => clusterOf(items, d, i) === P.itemCluster[i]).length;

  // neighbours only (ID features): the trained weights over the graph with the held-out edges
  const edges = new GraphSage(o);
  await edges.fit(trainSet);
  const e1 = edges.inductiveEmbeddings(trainSet, extra);
  assert.ok(correct(e1.items, e1.dim) >= 9, `edges: ${correct(e1.items, e1.dim)}/10 in own cluster`);
  // no features and no edges: an unseen item's (untrained) ID row is not used, all get one vector
  const e0 = edges.inductiveEmbeddings(trainSet, none);
  const d = e0.dim;
  for (const i of withheld)
    assert.deepEqual(e0.items.subarray(i * d, (i + 1) * d), e0.items.subarray(0, d), `item ${i}`);
  assert.ok(correct(e0.items, d) <= 2, "without features or edges the cluster is not recoverable");
  // trained nodes keep their training-graph vectors' users: seen items still rank their users
  assert.equal(e1.users.length, nU * d);

  // features only: genre nodes, no edges at inference
  const feats = new GraphSage({ ...o, itemAttributes: ["genre"] });
  await feats.fit(trainSet);
  const e2 = feats.inductiveEmbeddings(trainSet, none);
  assert.ok(correct(e2.items, e2.dim) >= 9, `features: ${correct(e2.items, e2.dim)}/10 in own cluster`);
  assert.throws(() => new GraphSage({ idDropout: 1 }), /idDropout must be in \[0, 1\)/);
  await assert.rejects(new GraphSage({ itemAttributes: ["nope"] }).fit(trainSet), /no item attribute "nope"/);
});
