import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { IdMap } from "../data/id-map.ts";
import { interactions } from "../data/interactions.ts";
import { Rng } from "../math/rng.ts";
import type { AttributeField, Dataset } from "../types.ts";
import { AirbnbTypes } from "./airbnb-types.ts";

function field(name: string, vals: readonly string[]): AttributeField {
  const vocab = new IdMap();
  const indices = Int32Array.from(vals, (v) => vocab.add(v));
  return {
    name,
    multi: false,
    vocab,
    csr: {
      nRows: vals.length,
      nCols: vocab.size,
      offsets: Int32Array.from({ length: vals.length + 1 }, (_, i) => i),
      indices,
      values: null,
    },
  };
}

/**
 * Planted tastes (seed): 120 users, gender f/m × age band a/b; 60 items, genre g0..g3, all of one
 * era. Users of (f, a) rate genre g0 items 5 and g2 items 1 (rejections); (m, b) rate g1 items 5
 * and g0 items 1; everything else is rated 3 (neither positive nor rejection). g2 is no one's
 * positive, so only the hard negatives ever push it (random negatives follow positive counts);
 * g3 is never a positive nor a rejection: its context row stays 0. Users 100..119 have
 * attributes but no rows: withheld, served by type alone.
 */
function tastes(seed: number): Dataset {
  const rng = new Rng(seed);
  const nU = 120;
  const nI = 60;
  const gender = Array.from({ length: nU }, (_, u) => (u % 2 === 0 ? "f" : "m"));
  const age = Array.from({ length: nU }, (_, u) => (u % 4 < 2 ? "a" : "b"));
  const genre = Array.from({ length: nI }, (_, i) => `g${i % 4}`);
  const users: number[] = [];
  const items: number[] = [];
  const weights: number[] = [];
  for (let u = 0; u < 100; u++) {
    const t = `${gender[u]}${age[u]}`;
    for (let k = 0; k < 8; k++) {
      const i = rng.int(nI);
      let w = 3;
      if (t === "fa") w = i % 4 === 0 ? 5 : i % 4 === 2 ? 1 : 3;
      if (t === "mb") w = i % 4 === 1 ? 5 : i % 4 === 0 ? 1 : 3;
      users.push(u);
      items.push(i);
      weights.push(w);
    }
  }
  const um = new IdMap();
  for (let u = 0; u < nU; u++) um.add(`u${u}`);
  const im = new IdMap();
  for (let i = 0; i < nI; i++) im.add(`i${i}`);
  return {
    name: "tastes",
    users: um,
    items: im,
    train: interactions({
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      weights: Float32Array.from(weights),
    }),
    test: null,
    itemAttributes: new Map([
      ["genre", field("genre", genre)],
      ["year", field("year", new Array(nI).fill("1995"))],
    ]),
    userAttributes: new Map([
      ["gender", field("gender", gender)],
      ["age", field("age", age)],
    ]),
    itemStats: null,
  };
}

const opts = {
  userFields: ["gender", "age"],
  dim: 16,
  epochs: 30,
  workers: 0,
  popularityBands: 1,
  prior: false, // the type vectors alone; the prior is measured on ML-100k (bench sessions --only types)
  seed: 3,
} as const;

test("airbnb-types: bucketing gives one token per attribute combination, user types first", async () => {
  const m = await new AirbnbTypes(opts).fit(tastes(1));
  assert.equal(m.typeNames.filter((n) => n.startsWith("u:")).length, 4);
  assert.deepEqual(m.typeNames.slice(4).sort(), [
    "i:g0|1990s|pop0",
    "i:g1|1990s|pop0",
    "i:g2|1990s|pop0",
    "i:g3|1990s|pop0",
  ]);
  assert.equal(m.userType[100], m.userType[0]); // same gender and age band → same type
  assert.equal(m.itemType[4], m.itemType[0]);
});

test("airbnb-types: withheld users get their type's taste from attributes alone; rejections rank last", async () => {
  const m = await new AirbnbTypes(opts).fit(tastes(1));
  // user 100: f, a (likes g0, rejected g1); user 103: m, b (likes g1, rejected g0)
  const top = m.recommend(Int32Array.of(100, 103), 15);
  for (let r = 0; r < 15; r++) {
    assert.equal(top.ids[r] % 4, 0, `fa user, rank ${r}: item ${top.ids[r]}`);
    assert.equal(top.ids[15 + r] % 4, 1, `mb user, rank ${r}: item ${top.ids[15 + r]}`);
  }
  const all = m.recommend(Int32Array.of(100), 60);
  const last = [...all.ids.subarray(45, 60)];
  assert.ok(
    last.every((i) => i % 4 === 1),
    `fa user's bottom 15: ${last}`,
  );
});

test("airbnb-types: workers 0 is deterministic; save/load round trip", async () => {
  const a = await new AirbnbTypes(opts).fit(tastes(2));
  const b = await new AirbnbTypes(opts).fit(tastes(2));
  assert.deepEqual(a.embeddings().items, b.embeddings().items);
  assert.deepEqual(a.embeddings().users, b.embeddings().users);
  const dir = await mkdtemp(join(tmpdir(), "abt-"));
  try {
    await a.save(dir);
    const c = await AirbnbTypes.load(dir);
    assert.equal(c.kind, "airbnb-types");
    assert.deepEqual(
      c.recommend(Int32Array.of(101, 110), 10).ids,
      a.recommend(Int32Array.of(101, 110), 10).ids,
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("airbnb-types: rejections as hard negatives push the rejected type down", async () => {
  const score = (m: AirbnbTypes, u: number, i: number) => {
    const { dim, users, items } = m.embeddings();
    let s = 0;
    for (let j = 0; j < dim; j++) s += users[u * dim + j] * items[i * dim + j];
    return s;
  };
  const data = tastes(1);
  const hard = await new AirbnbTypes(opts).fit(data);
  const none = await new AirbnbTypes({ ...opts, hardNegatives: 0 }).fit(data);
  // fa user 100 rejected g2 (item 2); g3 (item 3) was never rated: its row is 0 in both models
  assert.ok(Math.abs(score(none, 100, 2) - score(none, 100, 3)) < 1e-2, "without hard negatives g2 ≈ g3");
  assert.ok(
    score(hard, 100, 2) < score(hard, 100, 3) - 1,
    `${score(hard, 100, 2)} vs ${score(hard, 100, 3)}`,
  );
  assert.ok(score(hard, 100, 0) > score(hard, 100, 3));
});

test("airbnb-types: rare cross types back off to coarser ones (minTypeUsers)", async () => {
  // 100 training users, 25 per gender × age type; withheld users 100..119 count for nothing
  const exact = await new AirbnbTypes({ ...opts, minTypeUsers: 25 }).fit(tastes(1));
  assert.deepEqual(exact.typeNames.filter((n) => n.startsWith("u:")).sort(), [
    "u:f|a",
    "u:f|b",
    "u:m|a",
    "u:m|b",
  ]);
  const coarse = await new AirbnbTypes({ ...opts, minTypeUsers: 26 }).fit(tastes(1));
  assert.deepEqual(coarse.typeNames.filter((n) => n.startsWith("u:")).sort(), ["u:f|*", "u:m|*"]);
  assert.equal(coarse.typeNames[coarse.userType[100]], "u:f|*");
  assert.equal(coarse.typeNames[coarse.userType[103]], "u:m|*");
});

test("airbnb-types: per-field user tokens are summed; item outputs rank the type's liked items first", async () => {
  const f = await new AirbnbTypes({ ...opts, userTokens: "fields" }).fit(tastes(1));
  assert.equal(f.tokensPerUser, 2);
  assert.deepEqual(
    [...f.userTokens.subarray(200, 202)].map((t) => f.typeNames[t]),
    ["u:gender=f", "u:age=a"],
  );
  const m = await new AirbnbTypes({ ...opts, outputs: "items", hardNegatives: 0 }).fit(tastes(1));
  // fa users rated 5 only g0 items (i % 4 = 0), mb users only g1 items: withheld 100 (fa), 103 (mb)
  const top = m.recommend(Int32Array.of(100, 103), 10);
  const g0 = [...top.ids.subarray(0, 10)].filter((i) => i % 4 === 0).length;
  const g1 = [...top.ids.subarray(10, 20)].filter((i) => i % 4 === 1).length;
  assert.ok(g0 >= 9 && g1 >= 9, `fa top-10 g0: ${g0}, mb top-10 g1: ${g1}`);
});
