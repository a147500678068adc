import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { attributeField } from "../data/attributes.ts";
import { IdMap } from "../data/id-map.ts";
import { interactions } from "../data/interactions.ts";
import { FmEncoder, fmSideInto } from "../encoders/fm-encoder.ts";
import { encodeFeatures, fmFeatureCsr, fmFieldLayouts } from "../encoders/fm-fields.ts";
import { RecallkitError } from "../errors.ts";
import * as losses from "../losses/index.ts";
import { Rng } from "../math/rng.ts";
import { sgd } from "../train/optimizers/sgd.ts";
import type { Dataset } from "../types.ts";
import { FmRecall } from "./fm.ts";

/**
 * Planted data: users in 2 groups by attribute "g" (A/B); items in 2 genres (x/y, item i has genre
 * i % 2, item 0 also "z"). Group A clicks genre-x items, group B genre-y items; item stats none.
 */
function planted(nUsers = 40, nItems = 20, seed = 3): Dataset {
  const rng = new Rng(seed);
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < nUsers; u++)
    for (let i = 0; i < nItems; i++) {
      if (i % 2 === u % 2 && rng.next() < 0.6) {
        users.push(u);
        items.push(i);
      }
    }
  const uMap = IdMap.from(Array.from({ length: nUsers }, (_, u) => `u${u}`));
  const iMap = IdMap.from(Array.from({ length: nItems }, (_, i) => `i${i}`));
  const ug = Array.from({ length: nUsers }, (_, u) => [u, u % 2 === 0 ? "A" : "B"] as const);
  const ig: (readonly [number, string])[] = [[0, "z"]];
  for (let i = 0; i < nItems; i++) ig.push([i, i % 2 === 0 ? "x" : "y"]);
  return {
    name: "planted",
    users: uMap,
    items: iMap,
    train: interactions({ users: Int32Array.from(users), items: Int32Array.from(items) }),
    test: null,
    userAttributes: new Map([["g", attributeField("g", nUsers, ug)]]),
    itemAttributes: new Map([["genre", attributeField("genre", nItems, ig, { multi: true })]]),
    itemStats: null,
  };
}

/** FM(u,t) of 5-23 by brute force over the union of feature rows, in float64. */
function fmBrute(
  Vu: Float32Array,
  wu: Float32Array,
  b: number,
  Vi: Float32Array,
  wi: Float32Array,
  d: number,
  u: { indices: Int32Array; values: Float32Array },
  t: { indices: Int32Array; values: Float32Array },
): number {
  const feats: { v: Float32Array; o: number; w: number; x: number }[] = [];
  for (let e = 0; e < u.indices.length; e++)
    feats.push({ v: Vu, o: u.indices[e] * d, w: wu[u.indices[e]], x: u.values[e] });
  for (let e = 0; e < t.indices.length; e++)
    feats.push({ v: Vi, o: t.indices[e] * d, w: wi[t.indices[e]], x: t.values[e] });
  let s = b;
  for (const a of feats) s += a.w * a.x;
  for (let i = 0; i < feats.length; i++)
    for (let j = i + 1; j < feats.length; j++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += feats[i].v[feats[i].o + k] * feats[j].v[feats[j].o + k];
      s += dot * feats[i].x * feats[j].x;
    }
  return s;
}

/**
 * Popularity only: item i is drawn with probability ∝ 1/(i + 1) (Zipf), every user has the same
 * attribute g = "A", so the best guess for any user is the popularity order 0, 1, 2, …
 */
function zipf(nUsers = 150, nItems = 30, perUser = 8, seed = 9): Dataset {
  const rng = new Rng(seed);
  const wsum = Array.from({ length: nItems }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const seen = new Set<number>();
    while (seen.size < perUser) {
      let r = rng.next() * wsum;
      let i = 0;
      while (i < nItems - 1 && r >= 1 / (i + 1)) r -= 1 / (i++ + 1);
      seen.add(i);
    }
    for (const i of seen) {
      users.push(u);
      items.push(i);
    }
  }
  return {
    name: "zipf",
    users: IdMap.from(Array.from({ length: nUsers }, (_, u) => `u${u}`)),
    items: IdMap.from(Array.from({ length: nItems }, (_, i) => `i${i}`)),
    train: interactions({ users: Int32Array.from(users), items: Int32Array.from(items) }),
    test: null,
    userAttributes: new Map([
      [
        "g",
        attributeField(
          "g",
          nUsers,
          Array.from({ length: nUsers }, (_, u) => [u, "A"] as const),
        ),
      ],
    ]),
    itemAttributes: new Map(),
    itemStats: null,
  };
}

/** Spearman correlation of two score lists (no ties expected). */
function spearman(a: number[], b: number[]): number {
  const rank = (x: number[]) => {
    const r = new Array<number>(x.length);
    const order = [...x.keys()].sort((i, j) => x[i] - x[j]);
    for (let k = 0; k < order.length; k++) r[order[k]] = k;
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const d2 = ra.reduce((s, r, i) => s + (r - rb[i]) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe("FmRecall", () => {
  test("E_u·E_t = FM(u,t) − (b + W_u + V_uu) for random features (5-28)", () => {
    const rng = new Rng(11);
    const d = 8;
    const nF = 30;
    const rnd = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const Vu = rnd(nF * d);
    const wu = rnd(nF);
    const Vi = rnd(nF * d);
    const wi = rnd(nF);
    const b = 0.7;
    const feats = () => {
      const n = 1 + rng.int(6);
      return { indices: Int32Array.from({ length: n }, () => rng.int(nF)), values: rnd(n) };
    };
    for (let trial = 0; trial < 50; trial++) {
      const u = feats();
      const t = feats();
      const su = new Float32Array(d + 1);
      const st = new Float32Array(d + 1);
      const userOnly = b + fmSideInto(Vu, wu, d, u.indices, u.values, 0, u.indices.length, su, 1);
      su[0] = 1; // E_u = concat(1, Σ v_u)
      st[0] = fmSideInto(Vi, wi, d, t.indices, t.values, 0, t.indices.length, st, 1); // E_t = concat(W_t + V_tt, Σ v_t)
      let dot = 0;
      for (let j = 0; j <= d; j++) dot += su[j] * st[j];
      const full = fmBrute(Vu, wu, b, Vi, wi, d, u, t);
      assert.ok(
        Math.abs(full - userOnly - dot) < 1e-4 * (1 + Math.abs(full)),
        `${full - userOnly} vs ${dot}`,
      );
    }
  });

  test("fields: layout, CSR values, validation naming the field", () => {
    const data = planted();
    const f = fmFieldLayouts(data, "item", ["id", "genre", "count:4"]);
    assert.deepEqual(
      f.map((x) => [x.spec, x.offset, x.size]),
      [
        ["id", 0, 20],
        ["genre", 20, 3],
        ["count:4", 23, 4],
      ],
    );
    const csr = fmFeatureCsr(data, "item", f);
    // item 0: id 0, genres x and z with x = 1/2 each, one count bucket
    assert.equal(csr.offsets[1] - csr.offsets[0], 4);
    assert.deepEqual(Array.from((csr.values as Float32Array).subarray(1, 3)), [0.5, 0.5]);
    const err = (fn: () => unknown, re: RegExp) =>
      assert.throws(fn, (e: unknown) => e instanceof RecallkitError && re.test(e.message));
    err(() => fmFieldLayouts(data, "user", ["genre"]), /item attribute.*cross features/);
    err(() => fmFieldLayouts(data, "user", ["age"]), /unknown field "age".*known user attributes: g/);
    err(() => fmFieldLayouts(data, "item", ["id", "id"]), /declared twice/);
    err(() => fmFieldLayouts(data, "item", ["count:1"]), /count:1/);
    err(() => fmFieldLayouts(data, "item", ["stat:clicks:8"]), /no item stats column "clicks"/);
    err(() => encodeFeatures(f, { genres: "x" }, "t"), /unknown field "genres"/);
    // unseen values are skipped; a list shares x = 1/n
    const e = encodeFeatures(f, { genre: ["x", "nope"], "count:4": 100 }, "t");
    assert.deepEqual(Array.from(e.indices), [21, 26]); // vocab order z, x, y (z was added first)
  });

  test("fit (fused BPR) separates planted groups; cold-start user from attributes; new item", async () => {
    const data = planted();
    const m = await new FmRecall({ dim: 8, epochs: 30, userFields: ["g"], itemFields: ["id", "genre"] }).fit(
      data,
    );
    assert.equal(m.report?.path, "fm-fused-pairwise-sgd");
    const top = m.recommend(Int32Array.of(0, 1), 5);
    for (let r = 0; r < 2; r++) for (const i of top.row(r).ids) assert.equal(i % 2, r % 2);
    const cold = m.userVector({ g: "B" });
    assert.equal(cold.length, 9);
    assert.equal(cold[0], 1);
    const t = m.recommendVectors(cold, 1, 5);
    for (const i of t.row(0).ids) assert.equal(i % 2, 1);
    // a new genre-y item scores higher for B users than for A users
    const it = m.itemVector({ genre: "y" });
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, j) => s + x * b[j], 0);
    assert.ok(dot(cold, it) > dot(m.userVector({ g: "A" }), it));
    // similarItems never returns the item itself
    const sim = m.similarItems(Int32Array.of(3), 4);
    assert.ok(!Array.from(sim.row(0).ids).includes(3));
  });

  test("generic loop with another loss (softmax) and the fused path agree on the planted task", async () => {
    const data = planted();
    const m = await new FmRecall({
      dim: 8,
      epochs: 30,
      batchSize: 64,
      negatives: 4,
      loss: losses.softmax(),
      userFields: ["id", "g"],
      itemFields: ["id", "genre"],
    }).fit(data);
    assert.equal(m.report?.path, "generic");
    const top = m.recommend(Int32Array.of(2, 3), 5);
    for (let r = 0; r < 2; r++) for (const i of top.row(r).ids) assert.equal(i % 2, r % 2);
  });

  test("same seed → same vectors; save/load round trip keeps recommendations and cold start", async () => {
    const data = planted();
    const o = { dim: 4, epochs: 3, userFields: ["id", "g"], itemFields: ["id", "genre"], subsample: 0.05 };
    const a = await new FmRecall(o).fit(data);
    const b = await new FmRecall(o).fit(data);
    assert.deepEqual(a.embeddings().items, b.embeddings().items);
    const dir = await mkdtemp(join(tmpdir(), "fm-"));
    try {
      await a.save(dir);
      const c = await FmRecall.load(dir);
      const users = Int32Array.of(0, 5, 7);
      assert.deepEqual(c.recommend(users, 5).ids, a.recommend(users, 5).ids);
      assert.deepEqual(c.userVector({ g: "A" }), a.userVector({ g: "A" }));
      assert.deepEqual(c.itemVector({ genre: ["x", "z"] }), a.itemVector({ genre: ["x", "z"] }));
      assert.equal(c.params().power, 0.75);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("Hogwild with 2 workers trains", async () => {
    const data = planted();
    const m = await new FmRecall({
      dim: 8,
      epochs: 30,
      workers: 2,
      userFields: ["g"],
      itemFields: ["genre"],
    }).fit(data);
    assert.equal(m.report?.workers, 2);
    const top = m.recommend(Int32Array.of(0, 1), 3);
    for (let r = 0; r < 2; r++) for (const i of top.row(r).ids) assert.equal(i % 2, r % 2);
  });

  test("recommendVectors fills every row past the first block of 64 queries", async () => {
    const m = await new FmRecall({
      dim: 4,
      epochs: 2,
      userFields: ["id", "g"],
      itemFields: ["id", "genre"],
    }).fit(planted());
    const n = 150;
    const q = new Float32Array(n * 5);
    const rng = new Rng(4);
    for (let e = 0; e < q.length; e++) q[e] = rng.normal();
    const all = m.recommendVectors(q, n, 3);
    for (const r of [0, 63, 64, 100, 149]) {
      const one = m.recommendVectors(q.subarray(r * 5, (r + 1) * 5), 1, 3);
      assert.equal(all.counts[r], 3, `row ${r}`);
      assert.deepEqual(Array.from(all.row(r).ids), Array.from(one.row(0).ids), `row ${r}`);
    }
  });

  test("logQ keeps popularity in the item term at b = 1 (a cold user's best guess)", async () => {
    const data = zipf();
    const o = { dim: 4, epochs: 20, power: 1, userFields: ["id", "g"], itemFields: ["id"], seed: 3 };
    const corr = async (logQ: boolean) => {
      const m = await new FmRecall({ ...o, logQ }).fit(data);
      const u = m.userVector({ g: "A" }); // a user withheld from training: attributes only
      const s = Array.from({ length: 30 }, (_, i) => {
        const t = m.itemVector({ id: i });
        return u.reduce((acc, x, j) => acc + x * t[j], 0);
      });
      return spearman(
        s,
        Array.from({ length: 30 }, (_, i) => -i),
      );
    };
    const withQ = await corr(true);
    const without = await corr(false);
    // with the correction FM ≈ log P(t): the popularity order; without, b = 1 divides it out
    assert.ok(withQ > 0.8, `logQ: spearman ${withQ}`);
    assert.ok(without < 0.5, `no logQ: spearman ${without}`);
  });

  test("idDropout: training rows are encoded with or without the id; validation", () => {
    const data = planted();
    const enc = new FmEncoder({ role: "query", dim: 3, fields: ["id", "g"], idDropout: 0.5 });
    const rng = new Rng(2);
    enc.prepare({ nRows: 40, rng, data, bags: null, optimizer: sgd({ lr: 0.1 }), sharedMemory: false });
    assert.deepEqual(enc.dropout(), { from: 0, to: 40, p: 0.5 });
    const ids = Int32Array.from({ length: 40 }, (_, i) => i);
    const out = new Float32Array(40 * 5);
    enc.forwardInto(ids, 40, out);
    const full = enc.exportAll(); // serving: every field
    let dropped = 0;
    for (let r = 0; r < 40; r++) {
      const row = Array.from(out.subarray(r * 5 + 2, r * 5 + 5));
      const g = data.userAttributes.get("g");
      const attrOnly = enc.servingVector({ g: r % 2 === 0 ? "A" : "B" });
      assert.ok(g !== undefined);
      const same = (a: number[], b: ArrayLike<number>) => a.every((x, j) => Math.abs(x - b[j]) < 1e-6);
      if (same(row, attrOnly.subarray(1))) dropped++;
      else assert.ok(same(row, full.subarray(r * 5 + 2, r * 5 + 5)), `row ${r}`);
    }
    assert.ok(dropped > 8 && dropped < 32, `${dropped} of 40 rows dropped`);
    const err = (fn: () => unknown, re: RegExp) =>
      assert.throws(fn, (e: unknown) => e instanceof RecallkitError && re.test(e.message));
    err(() => new FmEncoder({ role: "query", fields: ["g"], idDropout: 0.3 }), /needs an "id" field/);
    err(
      () => new FmEncoder({ role: "query", fields: ["id"], idDropout: 1 }),
      /idDropout must be in \[0, 1\)/,
    );
  });
});
