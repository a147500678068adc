import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { RecallkitError } from "../errors.ts";
import { inspectDataset } from "./inspect.ts";
import { parseSyntheticSpec, resolveDataset, sniffDataset } from "./resolve.ts";

const DATA = process.env.RECALLKIT_DATA;
const tmp = mkdtempSync(join(tmpdir(), "rk-resolve-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const code = (c: string, re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof RecallkitError, String(err));
  assert.equal(err.code, c);
  assert.match(err.message, re);
  assert.ok(!err.message.includes("\n"), "one line");
  return true;
};

test("unknown name: one line listing known names and where it looked", async () => {
  await assert.rejects(
    resolveDataset("movielens-9m", { dataDir: tmp }),
    code(
      "RK_ERR_DATASET_UNKNOWN",
      /unknown dataset "movielens-9m": not a known name \(gowalla, ml-100k, .*synthetic.*\) and no such path .*movielens-9m/,
    ),
  );
  await assert.rejects(
    resolveDataset("ml-1m", { dataDir: tmp }),
    code(
      "RK_ERR_DATASET_UNKNOWN",
      /dataset "ml-1m" not found: looked in .*ml-1m \(data folder from dataDir option\); known: gowalla/,
    ),
  );
  const empty = join(tmp, "empty");
  mkdirSync(empty);
  await assert.rejects(
    resolveDataset(empty),
    code("RK_ERR_DATASET_UNKNOWN", /holds none of train\.txt, u\.data/),
  );
  await assert.rejects(
    resolveDataset("synthetic:seed=x"),
    code("RK_ERR_INVALID_ARGUMENT", /bad option "seed=x"/),
  );
  await assert.rejects(
    resolveDataset("synthetic:colour=3"),
    code("RK_ERR_INVALID_ARGUMENT", /key one of seed, users/),
  );
});

test("named dataset without a data folder says how to set one", async () => {
  const saved = process.env.RECALLKIT_DATA;
  delete process.env.RECALLKIT_DATA;
  try {
    await assert.rejects(
      resolveDataset("gowalla"),
      code("RK_ERR_DATASET_UNKNOWN", /set RECALLKIT_DATA or pass dataDir/),
    );
  } finally {
    if (saved !== undefined) process.env.RECALLKIT_DATA = saved;
  }
});

test("synthetic spec, default 80/20 split and inspect", async () => {
  assert.deepEqual(parseSyntheticSpec("synthetic:seed=7,users=500"), { seed: 7, nUsers: 500 });
  const ds = await resolveDataset("synthetic:seed=7,users=300,items=200");
  assert.equal(ds.users.size, 300);
  assert.ok(ds.test !== null && ds.test.length > 0);
  const again = await resolveDataset("synthetic:seed=7,users=300,items=200");
  assert.deepEqual(again.test?.items, ds.test.items);
  const s = inspectDataset(ds);
  assert.equal(s.users, 300);
  assert.equal(s.items, 200);
  assert.equal(s.interactions.train + s.interactions.test, ds.train.length + ds.test.length);
  assert.ok(s.interactions.test / (s.interactions.train + s.interactions.test) > 0.15);
  assert.ok(s.popularitySkew > 0.4 && s.popularitySkew < 1, String(s.popularitySkew));
  assert.deepEqual(Object.keys(s.events ?? {}), ["view", "purchase"]);
  assert.ok((s.sessions ?? 0) > 300);
  assert.equal(s.attributes.items.category, 20);
  assert.equal(s.attributes.users.gender, 2);
  const whole = await resolveDataset("synthetic:users=50,items=40,clusters=4", { split: false });
  assert.equal(whole.test, null);
});

test("inspect: hand-made counts", async () => {
  const d = join(tmp, "csv");
  mkdirSync(d);
  // 2 users × 5 items; item a has 3 of 5 rows → top 20% (1 item) holds 60%.
  writeFileSync(join(d, "interactions.csv"), "user_id,item_id\n1,a\n1,b\n2,a\n2,c\n1,a\n");
  writeFileSync(join(d, "items.csv"), "item_id,color\na,red\nb,red\nc,blue\nd,\ne,green\n");
  writeFileSync(join(d, "test.csv"), "user_id,item_id\n2,d\n");
  assert.equal(sniffDataset(d), "csv");
  const ds = await resolveDataset(d);
  const s = inspectDataset(ds);
  assert.equal(s.users, 2);
  assert.equal(s.items, 5);
  assert.deepEqual(s.interactions, { train: 5, test: 1 });
  assert.equal(s.density, 6 / 10);
  assert.equal(s.popularitySkew, 3 / 5);
  assert.deepEqual(s.itemsPerUser, { mean: 2.5, median: 2.5 });
  assert.equal(s.events, null);
  assert.equal(s.sessions, null);
  assert.deepEqual(s.attributes, { items: { color: 3 }, users: {} });
});

test("named datasets from RECALLKIT_DATA: fixed split kept, default split applied", async (t) => {
  if (!DATA) return t.skip("RECALLKIT_DATA unset");
  const g = await resolveDataset("gowalla");
  assert.equal(g.test?.length, 217242);
  const ml = await resolveDataset("ml-100k");
  assert.equal(ml.name, "ml-100k");
  assert.equal(ml.train.length + (ml.test?.length ?? 0), 100000);
  const s = inspectDataset(ml);
  assert.ok(s.interactions.test > 19000 && s.interactions.test < 21000, String(s.interactions.test));
  const byPath = await resolveDataset(join(DATA, "diginetica"));
  assert.equal(byPath.users.size, 2986);
});
