import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tinyDataset } from "../../test/fixtures/tiny-dataset.ts";
import { userItemCsr } from "../data/matrix.ts";
import { Popular } from "./popular.ts";

const data = tinyDataset({
  nItems: 5,
  train: [
    [0, 1, 1],
    [1, 2],
    [1, 2, 3],
  ],
});

test("ranks by distinct users, masks seen items, ties by index", async () => {
  const m = await new Popular().fit(data);
  assert.deepEqual(Array.from(m.itemScores()), [1, 3, 2, 1, 0]);
  const r = m.recommend(Int32Array.from([0, 2]), 3, { exclude: userItemCsr(data.train, 3, 5) });
  assert.deepEqual(Array.from(r.row(0).ids), [2, 3, 4]);
  assert.deepEqual(Array.from(r.row(1).ids), [0, 4]);
  assert.deepEqual(Array.from(r.counts), [3, 2]);
});

test("counting every event and time decay change the order as expected", async () => {
  assert.deepEqual(
    Array.from((await new Popular({ distinctUsers: false }).fit(data)).itemScores()),
    [1, 4, 2, 1, 0],
  );
  // ts = 1000·user + position: user 2's events are newest; a 1 s half-life leaves only them
  const d = await new Popular({ halfLifeSec: 1 }).fit(data);
  const s = d.itemScores();
  assert.ok(s[3] > s[0] && s[3] > 0.2 && s[0] < 1e-10);
});

test("save/load round trip; not-fitted error", async () => {
  const m = await new Popular().fit(data);
  const dir = join(await mkdtemp(join(tmpdir(), "rk-pop-")), "m");
  await m.save(dir);
  const l = await Popular.load(dir);
  assert.deepEqual(l.recommend(Int32Array.from([1]), 4), m.recommend(Int32Array.from([1]), 4));
  assert.throws(() => new Popular().recommend(Int32Array.from([0]), 2), /call fit\(\) or load\(\) first/);
});
