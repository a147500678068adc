import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { denseNormalizedGram } from "../graph/spectral.reference.ts";
import { buildCsr } from "../math/csr.ts";
import { symmetricEigen } from "../math/eigen.ts";
import { createModel, loadModel } from "../registry.ts";
import { GraphFilter } from "./graph-filter.ts";
import { ItemCF } from "./item-cf.ts";
import { datasetOf, randomLog } from "./similarity.reference.ts";

const N_USERS = 40;
const N_ITEMS = 24;
const log = randomLog(4, N_USERS, N_ITEMS, 0.2);
const data = datasetOf(log, N_USERS, N_ITEMS);
const train = buildCsr(N_USERS, N_ITEMS, log.users, log.items, null, "one");
const ALL = Int32Array.from({ length: N_USERS }, (_, u) => u);

/**
 * GF-CF's scores in float64, straight from the formula: s = r·R̃ᵀR̃ + α·r·D^-1/2 V Vᵀ D^1/2 with
 * R̃ = D_U^-1/2 R D_I^-1/2 and V the top-k eigenvectors of R̃ᵀR̃ (all of them computed densely).
 */
function referenceScores(signal: readonly number[], k: number, alpha: number): Float64Array {
  const { p, di } = denseNormalizedGram(log.users, log.items, N_USERS, N_ITEMS);
  const inv = (d: number) => (d > 0 ? 1 / Math.sqrt(d) : 0);
  const { vectors: v } = symmetricEigen(p, N_ITEMS);
  const s = new Float64Array(N_ITEMS);
  for (const i of signal)
    for (let j = 0; j < N_ITEMS; j++) {
      s[j] += p[i * N_ITEMS + j];
      let low = 0;
      for (let c = 0; c < k; c++) low += v[i * N_ITEMS + c] * v[j * N_ITEMS + c];
      s[j] += alpha * inv(di[i]) * low * (di[j] > 0 ? Math.sqrt(di[j]) : 0);
    }
  return s;
}

/** Row t of a TopK equals the reference's top-k over the unmasked items, scores to 1e-5. */
function assertTopMatches(
  top: { ids: Int32Array; scores: Float32Array; counts: Int32Array; k: number },
  t: number,
  ref: Float64Array,
  masked: ReadonlySet<number>,
  label: string,
): void {
  const expected = Array.from({ length: N_ITEMS }, (_, j) => j)
    .filter((j) => !masked.has(j))
    .sort((a, b) => ref[b] - ref[a] || a - b)
    .slice(0, top.k);
  assert.equal(top.counts[t], expected.length, label);
  for (let x = 0; x < expected.length; x++) {
    const id = top.ids[t * top.k + x];
    assert.ok(!masked.has(id), `${label}: masked item ${id} returned`);
    assert.ok(Math.abs(top.scores[t * top.k + x] - ref[id]) < 1e-5, `${label}: score of item ${id}`);
    // the x-th best reference score, whichever id a near-tie put there
    assert.ok(Math.abs(ref[id] - ref[expected[x]]) < 1e-5, `${label}: rank ${x}`);
  }
}

const itemsOf = (u: number) => Array.from(train.indices.subarray(train.offsets[u], train.offsets[u + 1]));

describe("GraphFilter (GF-CF)", () => {
  const opts = { lowPassDim: 6, lowPassWeight: 0.3, iterations: 60 };

  test("recommend = the dense GF-CF formula, seen items masked", async () => {
    const gf = await new GraphFilter(opts).fit(data);
    const top = gf.recommend(ALL, 10, { exclude: train });
    for (let u = 0; u < N_USERS; u++)
      assertTopMatches(top, u, referenceScores(itemsOf(u), 6, 0.3), new Set(itemsOf(u)), `user ${u}`);
  });

  test("the eigenvalues are R̃ᵀR̃'s, led by 1", async () => {
    const gf = await new GraphFilter(opts).fit(data);
    assert.ok(Math.abs(gf.lowPassValues[0] - 1) < 1e-6, `λ1 = ${gf.lowPassValues[0]}`);
    for (let j = 1; j < 6; j++) assert.ok(gf.lowPassValues[j] <= gf.lowPassValues[j - 1] + 1e-12);
  });

  test("lowPassDim 0: the linear filter alone is ItemCF with 1/|I_u| user weights and cosine α = 0.5", async () => {
    const gf = await new GraphFilter({ lowPassDim: 0 }).fit(data);
    const cf = await new ItemCF({
      workers: 0,
      similarity: "cosine",
      alpha: 0.5,
      userWeight: "inverse",
      neighbors: 0,
    }).fit(data);
    const a = gf.recommend(ALL, 8, { exclude: train });
    const b = await cf.recommend(ALL, 8, { exclude: train });
    for (let t = 0; t < a.scores.length; t++) assert.ok(Math.abs(a.scores[t] - b.scores[t]) < 1e-5);
    for (let u = 0; u < N_USERS; u++)
      assertTopMatches(a, u, referenceScores(itemsOf(u), 0, 0), new Set(itemsOf(u)), `user ${u}`);
  });

  test("recommendFromItems filters any signal: a user's own items give her recommend row", async () => {
    const gf = await new GraphFilter(opts).fit(data);
    const u = 3;
    const fromItems = gf.recommendFromItems(Int32Array.from([...itemsOf(u), itemsOf(u)[0]]), 10);
    const row = gf.recommend(Int32Array.of(u), 10, { exclude: train });
    assert.deepEqual(Array.from(fromItems.ids), Array.from(row.ids));
    const extra = gf.recommendFromItems(Int32Array.from(itemsOf(u)), 10, Int32Array.of(row.ids[0]));
    assert.ok(!Array.from(extra.ids).includes(row.ids[0]), "exclude is masked");
  });

  test("similarItems filters the item's one-hot signal, the item itself masked", async () => {
    const gf = await new GraphFilter(opts).fit(data);
    const items = Int32Array.of(0, 5, 17);
    const top = gf.similarItems(items, 5);
    items.forEach((i, t) => {
      assertTopMatches(top, t, referenceScores([i], 6, 0.3), new Set([i]), `item ${i}`);
    });
  });

  test("save → load gives the same lists; no temp directory is left", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rk-gf-"));
    try {
      const gf = await createModel("graph-filter", opts).fit(data);
      await gf.save(join(dir, "m"));
      const back = await loadModel(join(dir, "m"));
      assert.equal(back.kind, "graph-filter");
      const a = await gf.recommend(ALL, 10, { exclude: train });
      const b = await back.recommend(ALL, 10, { exclude: train });
      assert.deepEqual(Array.from(b.ids), Array.from(a.ids));
      assert.deepEqual(Array.from(b.scores), Array.from(a.scores));
      assert.deepEqual(await readdir(dir), ["m"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("errors: not fitted, user or item out of range, bad options", async () => {
    assert.throws(() => new GraphFilter().recommend(ALL, 5), /call fit\(\) or load\(\) first/);
    const gf = await new GraphFilter(opts).fit(data);
    assert.throws(() => gf.recommend(Int32Array.of(N_USERS), 5), /user index 40 out of range \[0, 40\)/);
    assert.throws(() => gf.similarItems(Int32Array.of(-1), 5), /item index -1 out of range/);
    assert.throws(() => new GraphFilter({ lowPassDim: 1.5 }), /lowPassDim must be an integer ≥ 0/);
    await assert.rejects(
      new GraphFilter({ oversample: -2 }).fit(data),
      /oversample must be an integer ≥ 0, got -2/,
    );
    await assert.rejects(new GraphFilter({ iterations: 0.5 }).fit(data), /iterations must be an integer ≥ 0/);
    assert.throws(() => createModel("graph-filter", { k: 3 }), /model "graph-filter" has no option "k"/);
  });
});
