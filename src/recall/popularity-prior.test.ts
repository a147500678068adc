import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { userItemCsr } from "../data/matrix.ts";
import { splitRandom, withSplit } from "../data/split.ts";
import { synthesize } from "../data/synthetic.ts";
import { evaluate } from "../eval/evaluate.ts";
import { buildCsr } from "../math/csr.ts";
import { MfSoftmax } from "../models/mf-softmax.ts";
import type { Recommender } from "../recommender.ts";
import { createModel, loadModel, selectPopularityPriorInWorker } from "../registry.ts";
import {
  DEFAULT_PRIOR_GRID,
  PopularityPrior,
  popularityBias,
  selectPopularityPrior,
  withItemBias,
} from "./popularity-prior.ts";

const log = synthesize({ seed: 4, nUsers: 150, nItems: 60 });
const data = withSplit(log, splitRandom(log.train, { seed: 3 }));
/** A small mf-softmax, as registry options. */
const SMALL = { dim: 8, epochs: 1, batchSize: 64, nGlobal: 16 };
const small = () => new MfSoftmax({ ...SMALL, epochs: 2, seed: 1 });

test("popularityBias is β·log(1 + users per item); withItemBias scores u·v + bias", () => {
  // users 0..2, items 0..2: item 0 has 3 users, item 1 one, item 2 none
  const train = buildCsr(3, 3, Int32Array.of(0, 1, 2, 0), Int32Array.of(0, 0, 0, 1), null, "one");
  const b = popularityBias(train, 0.5);
  assert.deepEqual(Array.from(b), [0.5 * Math.log(4), 0.5 * Math.log(2), 0].map(Math.fround));
  const e = withItemBias(
    { dim: 2, users: Float32Array.of(1, 2, 3, 4, 5, 6), items: Float32Array.of(1, 0, 0, 1, 1, 1) },
    b,
  );
  assert.equal(e.dim, 3);
  const score = (u: number, i: number) => {
    let s = 0;
    for (let j = 0; j < 3; j++) s += e.users[u * 3 + j] * e.items[i * 3 + j];
    return s;
  };
  assert.ok(Math.abs(score(1, 0) - (3 + b[0])) < 1e-6);
  assert.ok(Math.abs(score(2, 2) - (11 + b[2])) < 1e-6);
});

test("PopularityPrior: recommend ranks by inner score + β·log(1 + n), seen items masked; β = 0 is the inner model", async () => {
  const beta = 0.05;
  const m = await new PopularityPrior(small(), beta).fit(data);
  const inner = (m.inner as MfSoftmax).embeddings();
  const nU = data.users.size;
  const nI = data.items.size;
  const train = userItemCsr(data.train, nU, nI);
  const bias = popularityBias(train, beta);
  const users = Int32Array.of(0, 7, 42);
  const top = m.recommend(users, 5, { exclude: train });
  for (let r = 0; r < users.length; r++) {
    const u = users[r];
    const seen = new Set(train.indices.subarray(train.offsets[u], train.offsets[u + 1]));
    const ref: [number, number][] = [];
    for (let i = 0; i < nI; i++) {
      if (seen.has(i)) continue;
      let s = 0;
      for (let j = 0; j < inner.dim; j++)
        s += inner.users[u * inner.dim + j] * inner.items[i * inner.dim + j];
      ref.push([i, s + bias[i]]);
    }
    ref.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const got = Array.from(top.row(r).ids);
    assert.deepEqual(
      got,
      ref.slice(0, 5).map((x) => x[0]),
      `user ${u}`,
    );
  }
  // β = 0: the wrapped model serves exactly the inner model's lists
  const zero = await new PopularityPrior(small(), 0).fit(data);
  const a = zero.recommend(users, 5, { exclude: train });
  const b = await (zero.inner as MfSoftmax).recommend(users, 5, { exclude: train });
  assert.deepEqual(Array.from(a.ids), Array.from(b.ids));
  // the blocked evaluation (embeddings path) and recommend agree
  const viaEmb = await evaluate(m, train, userItemCsr(data.test as typeof data.train, nU, nI), { ks: [10] });
  // the same model seen only through `recommend` (no embeddings: evaluate takes the list path)
  const listsOnly: Recommender = {
    kind: m.kind,
    fit: async () => listsOnly,
    params: () => m.params(),
    save: async () => {},
    recommend: (u, k, o) => m.recommend(u, k, o),
  };
  const viaRec = await evaluate(listsOnly, train, userItemCsr(data.test as typeof data.train, nU, nI), {
    ks: [10],
  });
  assert.equal(viaEmb.metrics["recall@10"], viaRec.metrics["recall@10"]);
});

test("PopularityPrior: registry option, save/load round-trip in one artifact, clear errors", async () => {
  const m = createModel("mf-softmax", { ...SMALL, popularityPrior: 0.02 });
  assert.ok(m instanceof PopularityPrior);
  await m.fit(data);
  assert.equal(m.params().popularityPrior, 0.02);
  const root = await mkdtemp(join(tmpdir(), "rk-prior-"));
  try {
    const dir = join(root, "m");
    await m.save(dir);
    await m.save(dir); // overwrite in place
    assert.deepEqual((await readdir(root)).sort(), ["m"]); // no temp directory left behind
    const l = await loadModel(dir);
    assert.ok(l instanceof PopularityPrior);
    const users = Int32Array.of(1, 2, 3);
    assert.deepEqual(Array.from(l.recommend(users, 6).ids), Array.from(m.recommend(users, 6).ids));
    assert.deepEqual(l.embeddings().items, m.embeddings().items);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  assert.throws(
    () => createModel("popular", { popularityPrior: 0.1 }),
    /popularityPrior needs a model with embeddings/,
  );
  assert.throws(
    () => createModel("mf-softmax", { popularityPrior: -1 }),
    /popularityPrior must be a number ≥ 0/,
  );
  assert.throws(() => createModel("mf-softmax", { popularity: 1 }), /its options are: .*popularityPrior/);
});

test("selectPopularityPrior picks β on a validation slice of the training data (the test split is never read)", async () => {
  const noTest = { ...data, test: null };
  const grid = [0, 0.01, 0.05, 0.2];
  const s = await selectPopularityPrior(small, noTest, { grid, k: 10 });
  assert.deepEqual(
    s.table.map((r) => r.beta),
    grid,
  );
  const best = Math.max(...s.table.map((r) => r.recall));
  assert.equal(s.table.find((r) => r.beta === s.beta)?.recall, best);
  // a larger β concentrates the lists on popular items: coverage cannot grow along the grid's end
  assert.ok(s.table[3].coverage <= s.table[0].coverage);
});

test('popularityPrior "auto" (registry): β chosen at fit on a validation slice, recorded with its table', async () => {
  const m = createModel("mf-softmax", { ...SMALL, popularityPrior: "auto" });
  assert.ok(m instanceof PopularityPrior && Number.isNaN(m.beta));
  await m.fit(data);
  const p = m.params() as {
    popularityPrior: number;
    popularityPriorSelection: { table: { beta: number }[] };
  };
  assert.ok(DEFAULT_PRIOR_GRID.includes(p.popularityPrior));
  assert.deepEqual(
    p.popularityPriorSelection.table.map((r) => r.beta),
    DEFAULT_PRIOR_GRID,
  );
  assert.equal(m.beta, p.popularityPrior);
});

test('"auto" through the registry runs the validation fit in a worker thread: the same selection as in-process', async () => {
  const spec = { model: "mf-softmax", options: { ...SMALL, seed: 1 } };
  const inWorker = await selectPopularityPriorInWorker(spec, data).result;
  const here = await selectPopularityPrior(() => createModel(spec.model, spec.options), data);
  assert.deepEqual(inWorker, here);
  // and the wrapper built by createModel takes that path (2 cores here) with the same outcome
  const m = createModel("mf-softmax", { ...spec.options, popularityPrior: "auto" }) as PopularityPrior;
  await m.fit(data);
  assert.deepEqual(m.selection, here);
});

test("selectPopularityPriorInWorker: an error inside the worker reaches the caller", async () => {
  await assert.rejects(
    selectPopularityPriorInWorker({ model: "no-such-model", options: {} }, data).result,
    /unknown model "no-such-model"/,
  );
});
