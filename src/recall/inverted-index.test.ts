import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tinyDataset } from "../../test/fixtures/tiny-dataset.ts";
import { userItemCsr } from "../data/matrix.ts";
import { InvertedIndex } from "./inverted-index.ts";
import { Popular } from "./popular.ts";

// Items 0-3 are "tank", 4-7 "cat"; popularity: 0 > 1 > 2 ... inside each genre via the histories.
const genre = [["tank"], ["tank"], ["tank"], ["tank"], ["cat"], ["cat"], ["cat"], ["cat", "tank"]];
const data = tinyDataset({
  nItems: 8,
  train: [
    [0, 1, 4], // mixed, most recent cat
    [4, 5, 6], // cat lover
    [0, 1, 2], // tank lover
    [0, 4, 5],
    [0, 1, 4],
  ],
  itemAttrs: { genre },
  userAttrs: { gender: [["F"], ["F"], ["M"], ["F"], ["M"]] },
});

test("lists are sorted by the posterior metric (popularity here)", async () => {
  const m = await new InvertedIndex().fit(data);
  // tank items by popularity: 0 (4 users), 1 (3), 2 (1), 3 and 7 (0; ties by index)
  assert.deepEqual(Array.from(m.listFor("genre", "tank")), [0, 1, 2, 3, 7]);
  assert.deepEqual(Array.from(m.listFor("genre", "cat")), [4, 5, 6, 7]);
  assert.deepEqual(Array.from(m.listFor("genre", "nope")), []);
});

test("user preferences follow history with recency weighting", async () => {
  const m = await new InvertedIndex({ recencyHalfLife: 1 }).fit(data);
  // user 0: tank, tank, cat(most recent): tank = 0.25 + 0.5 = 0.75, cat = 1 → cat first
  const p = m.preferences(0);
  assert.equal(p[0].value, "genre=cat");
  assert.ok(Math.abs(p[0].weight - 1) < 1e-6 && Math.abs(p[1].weight - 0.75) < 1e-6);
  // user 1 only watched cats: the unseen cat item 7 comes first, then popular fill-in
  const r = m.recommend(Int32Array.from([1]), 3, { exclude: userItemCsr(data.train, 5, 8) });
  assert.deepEqual(Array.from(r.row(0).ids), [7, 0, 1]);
});

test("cold start from items and from user attributes", async () => {
  const m = await new InvertedIndex().fit(data);
  assert.deepEqual(Array.from(m.recommendFromItems(Int32Array.from([2, 3]), 2).row(0).ids), [0, 1]);
  // gender M users (2, 4) lean tank → tank list first
  const r = m.recommendFromAttributes({ gender: ["M"] }, 3);
  assert.deepEqual(Array.from(r.row(0).ids), [0, 1, 2]);
  // unknown attribute value: falls back to the global popular list
  const pop = await new Popular().fit(data);
  assert.deepEqual(
    Array.from(m.recommendFromAttributes({ gender: ["X"] }, 3).row(0).ids),
    Array.from(pop.recommendFromItems(new Int32Array(0), 3).row(0).ids),
  );
});

test("save/load round trip gives identical recommendations", async () => {
  const m = await new InvertedIndex({ topValues: 3 }).fit(data);
  const dir = join(await mkdtemp(join(tmpdir(), "rk-ii-")), "ii");
  await m.save(dir);
  const l = await InvertedIndex.load(dir);
  const users = Int32Array.from([0, 1, 2, 3, 4]);
  assert.deepEqual(l.recommend(users, 4), m.recommend(users, 4));
  assert.deepEqual(
    l.recommendFromAttributes({ gender: ["F"] }, 4),
    m.recommendFromAttributes({ gender: ["F"] }, 4),
  );
});

test("clear errors: missing field, missing stats, not fitted", async () => {
  await assert.rejects(
    new InvertedIndex({ fields: ["brand"] }).fit(data),
    /no item attribute "brand" \(have: genre\)/,
  );
  await assert.rejects(new InvertedIndex({ sortBy: "ctr" }).fit(data), /sortBy "ctr" needs item stats/);
  assert.throws(() => new InvertedIndex().recommend(Int32Array.from([0]), 1), /call fit\(\)/);
});
