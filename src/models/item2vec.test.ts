import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { IdMap } from "../data/id-map.ts";
import { interactions } from "../data/interactions.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { keepProbabilities } from "../positives/subsample.ts";
import { SgnsScratch, sgnsRange } from "../train/sgns.ts";
import { word2vecKeep } from "../train/sgns-corpus.ts";
import type { Dataset } from "../types.ts";
import { AirbnbEmbedding } from "./airbnb.ts";
import { Eges } from "./eges.ts";
import { Item2Vec } from "./item2vec.ts";

/**
 * Planted clusters and a planted pair (seed, sizes). Items 2.. form `nClusters` clusters of
 * `clusterSize`; an ordinary session draws 6 items from one cluster. Every 16th session instead
 * holds "0 then 1" at a random position plus 6 items each from a random one of clusters 0, 1, 2,
 * and ends in a "book" event of one of them (Airbnb's global context). So 0 and 1 always occur
 * together, adjacently, with the same other items: their contexts are the same three-cluster
 * mixture, which no other item has — a cluster-0 item j meets 0 and 1 in ≈ 2.5 of its ≈ 25
 * sessions and has its own cluster everywhere else. Skip-gram pulls both input vectors towards
 * the same output vectors, so 1 must be 0's nearest neighbour and 0 must be 1's; with no training
 * the neighbour is random (the "can fail" test), and a uniform-noise corpus would not do: there
 * every item's contexts are the same and all vectors collapse onto one direction.
 * Category = the cluster; 0 and 1 are in category 0, so side information ties them to cluster 0.
 * City = i mod 4 (0 and 1 in city 0), across clusters: Airbnb's market. A market equal to the
 * cluster would erase what 0 and 1 share — same-market negatives contrast a positive only with
 * its own cluster, which is their purpose — and leave only "0 predicts 1, 1 predicts 0".
 */
function corpus(seed: number, nClusters = 10, clusterSize = 20, nSessions = 800): Dataset {
  const rng = new Rng(seed);
  const nItems = 2 + nClusters * clusterSize;
  const users: number[] = [];
  const items: number[] = [];
  const events: number[] = [];
  const draw = (c: number) => 2 + c * clusterSize + rng.int(clusterSize);
  for (let s = 0; s < nSessions; s++) {
    const pair = s % 16 === 0;
    const c = rng.int(nClusters);
    const seq = Array.from({ length: 6 }, () => draw(pair ? rng.int(3) : c));
    if (pair) seq.splice(rng.int(seq.length + 1), 0, 0, 1);
    for (const it of seq) {
      users.push(s);
      items.push(it);
      events.push(0);
    }
    if (pair) {
      users.push(s);
      items.push(seq[seq.length - 1] === 1 ? seq[0] : seq[seq.length - 1]);
      events.push(1);
    }
  }
  const cats = Int32Array.from({ length: nItems }, (_, i) => (i < 2 ? 0 : Math.floor((i - 2) / clusterSize)));
  const cities = Int32Array.from({ length: nItems }, (_, i) => (i < 2 ? 0 : i % 4));
  const u = new IdMap();
  for (let s = 0; s < nSessions; s++) u.add(`u${s}`);
  const im = new IdMap();
  for (let i = 0; i < nItems; i++) im.add(`i${i}`);
  const cv = new IdMap();
  for (let c = 0; c < nClusters; c++) cv.add(`c${c}`);
  const cityVocab = new IdMap();
  for (let c = 0; c < 4; c++) cityVocab.add(`city${c}`);
  const oneHot = (indices: Int32Array, nCols: number) => ({
    nRows: nItems,
    nCols,
    offsets: Int32Array.from({ length: nItems + 1 }, (_, i) => i),
    indices,
    values: null,
  });
  return {
    name: "planted-pair",
    users: u,
    items: im,
    train: interactions({
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      events: Int32Array.from(events),
      eventNames: ["click", "book"],
    }),
    test: null,
    itemAttributes: new Map([
      ["category", { name: "category", multi: false, vocab: cv, csr: oneHot(cats, nClusters) }],
      ["city", { name: "city", multi: false, vocab: cityVocab, csr: oneHot(cities, 4) }],
    ]),
    userAttributes: new Map(),
    itemStats: null,
  };
}

const data = corpus(3);

test("subsampling keep probabilities follow word2vec's and the spec's formulas", () => {
  const counts = Float64Array.of(1000, 10, 0, 1);
  const total = 1011;
  const k = word2vecKeep(counts, 1e-3);
  const thr = 1e-3 * total;
  assert.ok(Math.abs(k[0] - (Math.sqrt(1000 / thr) + 1) * (thr / 1000)) < 1e-12);
  assert.equal(k[3], 1); // (√(1/1.011) + 1)·1.011 > 1 → capped
  const s = keepProbabilities(counts, 1e-3);
  assert.ok(Math.abs(s[0] - Math.sqrt(1e-3 / (1000 / total))) < 1e-12);
});

/** 0's and 1's nearest neighbours among all items must be each other (cosine of served vectors). */
function assertPlantedPair(
  m: { similarItems(q: Int32Array, k: number): { ids: Int32Array } },
  what: string,
): void {
  const n0 = m.similarItems(Int32Array.of(0), 3).ids;
  const n1 = m.similarItems(Int32Array.of(1), 3).ids;
  assert.equal(n0[0], 1, `${what}: 0's neighbours ${[...n0]}`);
  assert.equal(n1[0], 0, `${what}: 1's neighbours ${[...n1]}`);
}

test("item2vec: two always co-occurring items become nearest neighbours", async () => {
  const m = await new Item2Vec({ dim: 16, epochs: 10, window: 5, sample: 0, workers: 0, seed: 1 }).fit(data);
  assertPlantedPair(m, "item2vec");
  const rec = m.recommendFromItems(Int32Array.of(0), 1, Int32Array.of(0));
  assert.equal(rec.ids[0], 1);
});

test("item2vec: the planted pair is not found without training (the check can fail)", async () => {
  const m = await new Item2Vec({
    dim: 16,
    epochs: 10,
    alpha: 0,
    minAlpha: 0,
    sample: 0,
    workers: 0,
    seed: 1,
  }).fit(data);
  assert.notEqual(m.similarItems(Int32Array.of(0), 1).ids[0], 1);
});

test("item2vec: workers 0 is deterministic; save/load round trip", async () => {
  const o = { dim: 8, epochs: 2, workers: 0, seed: 9 } as const;
  const a = await new Item2Vec(o).fit(data);
  const b = await new Item2Vec(o).fit(data);
  assert.deepEqual(a.embeddings().items, b.embeddings().items);
  const dir = await mkdtemp(join(tmpdir(), "i2v-"));
  try {
    await a.save(dir);
    const c = await Item2Vec.load(dir);
    assert.equal(c.kind, "item2vec");
    assert.deepEqual(c.embeddings().items, a.embeddings().items);
    assert.deepEqual(c.similarItems(Int32Array.of(3), 5).ids, a.similarItems(Int32Array.of(3), 5).ids);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("item2vec: Hogwild with 2 workers trains", async () => {
  const m = await new Item2Vec({ dim: 16, epochs: 10, window: 5, sample: 0, workers: 2, seed: 1 }).fit(data);
  assertPlantedPair(m, "item2vec, 2 workers");
});

test("eges: softmax attention weights sum to 1; average is uniform", async () => {
  const m = await new Eges({ dim: 8, epochs: 2, seed: 2 }).fit(data);
  for (const v of [0, 1, 5, 150]) {
    const w = m.attentionWeights(v);
    assert.equal(w.length, 3); // id, category, city
    assert.ok(Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-9, `item ${v}: ${[...w]}`);
    for (const x of w) assert.ok(x > 0 && x < 1);
  }
  const avg = await new Eges({ dim: 8, epochs: 1, combine: "average" }).fit(data);
  assert.deepEqual([...avg.attentionWeights(4)], [1 / 3, 1 / 3, 1 / 3]);
});

test("eges: two always co-occurring items become nearest neighbours", async () => {
  const m = await new Eges({ dim: 16, epochs: 5, window: 5, seed: 2 }).fit(data);
  assertPlantedPair(m, "eges");
});

const airbnbOptions = { dim: 16, epochs: 10, window: 5, sample: 0, workers: 0, market: "city" } as const;

test("airbnb: global context and same-market negatives train; co-occurring items are neighbours", async () => {
  const m = await new AirbnbEmbedding({ ...airbnbOptions, seed: 1 }).fit(data);
  assertPlantedPair(m, "airbnb");
  const again = await new AirbnbEmbedding({ ...airbnbOptions, seed: 1 }).fit(data);
  assert.deepEqual(again.embeddings().items, m.embeddings().items);
});

/**
 * Pair generation of the SGNS kernel, counted through the kernel itself. Input rows are one-hot
 * (syn0[t] = e_t), syn1 = 0, no negatives and lr = 1e-7: every pair (in → out) then adds
 * g·e_in to syn1[out] with g = (1 − σ(f))·lr and f = syn1[out][in] ≤ N·lr/2 ≈ 1e-3, which the
 * sigmoid table reads as σ(0) = ½ exactly — so syn1[out][in] / (lr/2) counts the pairs.
 * word2vec's window: each center i draws b ∈ {1..W} uniformly and pairs with every j ≠ i, |i−j| ≤ b,
 * so a pair at distance d occurs with probability P(b ≥ d) = (W − d + 1)/W, never beyond W.
 */
function countPairs(o: { nCopies: number; window: number; globalCtx?: number; outputFrom?: number }) {
  const L = 7;
  const dim = 8; // tokens 0..6 in the sequence, 7 = the global context
  const N = o.nCopies;
  const tokens = new Int32Array(N * L);
  for (let s = 0; s < N; s++) for (let k = 0; k < L; k++) tokens[s * L + k] = k;
  const offsets = Int32Array.from({ length: N + 1 }, (_, s) => s * L);
  const corpus = {
    offsets,
    tokens,
    keep: null,
    globalCtx: o.globalCtx === undefined ? null : new Int32Array(N).fill(o.globalCtx),
    market: null,
    marketOffsets: null,
    marketItems: null,
    hardOffsets: null,
    hardItems: null,
  };
  const lr = 1e-7;
  const cfg = {
    dim,
    window: o.window,
    negative: 0,
    nMarket: 0,
    nHard: 0,
    outputFrom: o.outputFrom ?? 0,
    alpha: lr,
    minAlpha: lr,
    epochs: 1,
  };
  const syn0 = new Float32Array(dim * dim);
  for (let t = 0; t < dim; t++) syn0[t * dim + t] = 1;
  const syn1 = new Float32Array(dim * dim);
  const order = Int32Array.from({ length: N }, (_, s) => s);
  const eff = sgnsRange(
    syn0,
    syn1,
    corpus,
    cfg,
    new AliasTable(new Float64Array(dim).fill(1)),
    order,
    0,
    N,
    0,
    N * L,
    new Rng(11),
    new SgnsScratch(L, dim, 8),
  );
  assert.equal(eff, N * L);
  // count[out][in]; second-order terms (syn0 rows pick up lr²-sized parts) leave ≪ 0.5 where no pair is
  return Array.from({ length: dim }, (_, out) =>
    Array.from({ length: dim }, (_, inp) => syn1[out * dim + inp] / (lr / 2)),
  );
}

test("sgns kernel: window pairs occur with probability (W − d + 1)/W at distance d ≤ W, never beyond", () => {
  const N = 20_000;
  const W = 3;
  const c = countPairs({ nCopies: N, window: W });
  for (let out = 0; out < 7; out++)
    for (let inp = 0; inp < 8; inp++) {
      const d = Math.abs(out - inp);
      const p = inp === 7 || d === 0 || d > W ? 0 : (W - d + 1) / W;
      const sd = Math.sqrt(N * p * (1 - p));
      // 5σ binomial band, plus float32 rounding of ~20k small additions (a few counts)
      assert.ok(
        Math.abs(c[out][inp] - N * p) <= 5 * sd + 10,
        `pair ${inp}→${out}: ${c[out][inp]} vs ${N * p}`,
      );
      if (p === 0) assert.ok(c[out][inp] < 0.5, `pair ${inp}→${out} must not occur: ${c[out][inp]}`);
    }
  for (let inp = 0; inp < 8; inp++) assert.ok(c[7][inp] < 0.5); // token 7 never occurs
});

test("sgns kernel: the global context is one extra pair per token (5-17); outputFrom keeps in < from ≤ out", () => {
  const N = 2000;
  const g = countPairs({ nCopies: N, window: 2, globalCtx: 7 });
  for (let t = 0; t < 7; t++) assert.ok(Math.abs(g[7][t] - N) < 2, `${t} → gc: ${g[7][t]}`);
  const u = countPairs({ nCopies: N, window: 6, outputFrom: 4 });
  for (let out = 0; out < 8; out++)
    for (let inp = 0; inp < 8; inp++) {
      const allowed = inp < 4 && out >= 4 && out < 7;
      const p = (6 - Math.abs(out - inp) + 1) / 6;
      const band = 5 * Math.sqrt(N * p * (1 - p)) + 2;
      if (allowed)
        assert.ok(Math.abs(u[out][inp] - N * p) <= band, `${inp}→${out}: ${u[out][inp]} vs ${N * p}`);
      else assert.ok(u[out][inp] < 0.5, `${inp}→${out} must not occur: ${u[out][inp]}`);
    }
});

test("eges: Hogwild with 2 workers trains; the planted pair are neighbours", async () => {
  const m = await new Eges({ dim: 16, epochs: 5, window: 5, seed: 2, workers: 2 }).fit(data);
  assertPlantedPair(m, "eges, 2 workers");
});
