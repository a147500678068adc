import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { attributeValues } from "./attributes.ts";
import { loadDiginetica } from "./diginetica.ts";
import { loadLightGcn } from "./lightgcn.ts";
import { loadMovieLens } from "./movielens.ts";

const DATA = process.env.RECALLKIT_DATA;
const tmp = mkdtempSync(join(tmpdir(), "rk-loaders-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("ml-100k: 943 users, 1682 items, 100000 ratings, genres/year/demographics", async (t) => {
  if (!DATA) return t.skip("RECALLKIT_DATA unset");
  const ds = await loadMovieLens(join(DATA, "ml-100k"));
  assert.equal(ds.users.size, 943);
  assert.equal(ds.items.size, 1682);
  assert.equal(ds.train.length, 100000);
  assert.equal(ds.items.id(0), "1"); // index = id − 1
  assert.equal(ds.users.id(942), "943");
  const w = ds.train.weights as Float32Array;
  const hist = [0, 0, 0, 0, 0];
  for (let e = 0; e < w.length; e++) hist[w[e] - 1]++;
  assert.deepEqual(hist, [6110, 11370, 27145, 34174, 21201]);
  const genre = ds.itemAttributes.get("genre");
  assert.ok(genre?.multi);
  assert.deepEqual(attributeValues(genre, 0).sort(), ["Animation", "Children's", "Comedy"]); // Toy Story
  assert.deepEqual(attributeValues(ds.itemAttributes.get("year") ?? genre, 0), ["1995"]);
  assert.deepEqual(attributeValues(ds.userAttributes.get("age") ?? genre, 0), ["18-24"]); // user 1: 24
  assert.deepEqual(attributeValues(ds.userAttributes.get("occupation") ?? genre, 0), ["technician"]);
  const pos = await loadMovieLens(join(DATA, "ml-100k"), { minRating: 4, sessionGapSec: 1800 });
  assert.equal(pos.train.length, 34174 + 21201);
  assert.equal(pos.train.weights, null);
  assert.equal(pos.report.files[0].filtered, 100000 - 55375);
  assert.ok(pos.train.sessions !== null);
});

test("ml-latest-small: 610 users, 9724 rated movies, 100836 ratings, tags", async (t) => {
  if (!DATA) return t.skip("RECALLKIT_DATA unset");
  const ds = await loadMovieLens(join(DATA, "ml-latest-small"));
  assert.equal(ds.users.size, 610);
  assert.equal(ds.items.size, 9724);
  assert.equal(ds.train.length, 100836);
  const i1 = ds.items.indexOf("1");
  const genre = ds.itemAttributes.get("genre");
  assert.ok(genre);
  assert.deepEqual(attributeValues(genre, i1).sort(), [
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Fantasy",
  ]);
  assert.ok((ds.itemAttributes.get("tag")?.vocab.size ?? 0) > 1000);
  assert.equal(ds.report.files.find((f) => f.file.endsWith("tags.csv"))?.rows, 3683);
});

test("gowalla (LightGCN split): counts, index = id, loads fast", async (t) => {
  if (!DATA) return t.skip("RECALLKIT_DATA unset");
  const t0 = performance.now();
  const ds = await loadLightGcn(join(DATA, "gowalla"));
  const ms = performance.now() - t0;
  assert.equal(ds.users.size, 29858);
  assert.equal(ds.items.size, 40981);
  assert.equal(ds.train.length, 810128);
  assert.equal(ds.test?.length, 217242);
  assert.equal(ds.users.id(123), "123");
  assert.equal(ds.items.indexOf("40980"), 40980);
  assert.ok(ms < 2000, `gowalla took ${ms.toFixed(0)} ms`);
  t.diagnostic(`gowalla load ${ms.toFixed(0)} ms`);
});

test("diginetica sample: sessions as users, views + joined purchases, categories", async (t) => {
  if (!DATA) return t.skip("RECALLKIT_DATA unset");
  const ds = await loadDiginetica(join(DATA, "diginetica"));
  assert.equal(ds.users.size, 2986);
  const ev = ds.train.events as Int32Array;
  let views = 0;
  for (let e = 0; e < ds.train.length; e++) if (ds.train.eventNames[ev[e]] === "view") views++;
  assert.equal(views, 12391);
  assert.equal(ds.train.length - views, 256); // purchase rows of sample sessions (README)
  assert.equal(ds.report.files[1].filtered, 18025 - 256);
  const cat = ds.itemAttributes.get("category");
  assert.ok(cat);
  assert.equal(cat.csr.indices.length, ds.items.size); // every item has one category
  // Sessions equal users; rows grouped by session and in time order.
  const s = ds.train.sessions as Int32Array;
  const ts = ds.train.ts as Float64Array;
  for (let e = 1; e < ds.train.length; e++) {
    assert.equal(s[e], ds.train.users[e]);
    if (s[e] === s[e - 1]) assert.ok(ts[e] >= ts[e - 1]);
    else assert.ok(s[e] > s[e - 1]);
  }
  assert.equal(
    ds.itemStats?.clicks?.reduce((a, b) => a + b, 0),
    256,
  );
});

test("ml-1m layout from a generated fixture ('::', latin-1, coded demographics)", async () => {
  const d = join(tmp, "ml-1m");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(d);
  writeFileSync(
    join(d, "ratings.dat"),
    "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n",
  );
  writeFileSync(
    join(d, "movies.dat"),
    Buffer.from(
      "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n1193::Les Mis\xe9rables (1995)::Drama\n7::Unrated (1995)::Comedy\n",
      "latin1",
    ),
  );
  writeFileSync(join(d, "users.dat"), "1::F::1::10::48067\n2::M::56::16::70072\n");
  const ds = await loadMovieLens(d);
  assert.deepEqual(ds.users.ids(), ["1", "2"]);
  assert.deepEqual(ds.items.ids(), ["661", "1193"]); // rated movies only, ascending id
  assert.deepEqual([...(ds.train.weights ?? [])], [5, 3, 4]);
  const g = ds.itemAttributes.get("genre");
  assert.ok(g);
  assert.deepEqual(attributeValues(g, 0), ["Animation", "Children's", "Musical"]);
  assert.deepEqual(attributeValues(ds.itemAttributes.get("year") ?? g, 1), ["1995"]);
  assert.deepEqual(attributeValues(ds.userAttributes.get("age") ?? g, 0), ["Under 18"]);
  assert.deepEqual(attributeValues(ds.userAttributes.get("occupation") ?? g, 0), ["K-12 student"]);
  assert.deepEqual(attributeValues(ds.userAttributes.get("occupation") ?? g, 1), ["self-employed"]);
  assert.deepEqual(attributeValues(ds.userAttributes.get("gender") ?? g, 1), ["M"]);
});

test("a bad ratings line names file and line; skipBadRows reports it", async () => {
  const d = join(tmp, "bad-100k");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(d);
  writeFileSync(join(d, "u.data"), "1\t2\t5\t100\n1\t3\tfive\t100\n");
  await assert.rejects(loadMovieLens(d), /u\.data:2: field "weight": "five" is not a number/);
  const ds = await loadMovieLens(d, { skipBadRows: true });
  assert.equal(ds.train.length, 1);
  assert.equal(ds.report.files[0].skipped, 1);
});
