import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tinyDataset } from "../../test/fixtures/tiny-dataset.ts";
import { concatLogs, datasetOf, logOf, randomLog } from "./similarity.reference.ts";
import { UserCF } from "./user-cf.ts";

const ALL = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe("UserCF", () => {
  test("checkerboard: top-1 is the one missing item of the user's parity", async () => {
    const train: number[][] = [];
    for (let u = 0; u < 8; u++)
      train.push([0, 1, 2, 3, 4, 5, 6, 7].filter((i) => i % 2 === u % 2 && i !== (u + 2) % 8));
    const cf = await new UserCF({ workers: 0 }).fit(tinyDataset({ train, nItems: 8 }));
    const top = await cf.recommend(ALL(8), 1);
    for (let u = 0; u < 8; u++) assert.equal(top.ids[u], (u + 2) % 8, `user ${u}`);
  });

  test("recommend = dense S_user[u,:]·A with seen items masked", async () => {
    const log = randomLog(21, 35, 25, 0.2);
    const cf = await new UserCF({ workers: 0, itemWeight: "inverse", neighbors: 6 }).fit(
      datasetOf(log, 35, 25),
    );
    const s = cf.similarity();
    const items = Array.from({ length: 35 }, () => new Set<number>());
    for (let e = 0; e < log.length; e++) items[log.users[e]].add(log.items[e]);
    const top = await cf.recommend(ALL(35), 5);
    for (let u = 0; u < 35; u++) {
      const r = new Float64Array(25);
      const touched = new Set<number>();
      for (let e = s.offsets[u]; e < s.offsets[u + 1]; e++) {
        for (const j of items[s.indices[e]]) {
          r[j] += s.scores[e];
          touched.add(j);
        }
      }
      const want = [...touched]
        .filter((j) => !items[u].has(j))
        .sort((a, b) => r[b] - r[a] || a - b)
        .slice(0, 5);
      const got = Array.from(top.row(u).ids);
      assert.equal(got.length, want.length, `user ${u}`);
      got.forEach((j, t) => {
        assert.ok(Math.abs(r[j] - r[want[t]]) < 1e-6, `user ${u} rank ${t}`);
      });
    }
  });

  test("recommendFromItems(history) = recommend(user) when unpruned", async () => {
    const log = randomLog(22, 30, 25, 0.2);
    const cf = await new UserCF({ workers: 0, neighbors: 0, itemWeight: "log" }).fit(datasetOf(log, 30, 25));
    const top = await cf.recommend(ALL(30), 5);
    for (let u = 0; u < 30; u++) {
      const hist = Int32Array.from([...log.items].filter((_, e) => log.users[e] === u));
      const one = cf.recommendFromItems(hist, 5).row(0);
      const want = top.row(u);
      assert.deepEqual(one.ids, want.ids, `user ${u}`);
    }
  });

  test("partialFit ≡ full rebuild", async () => {
    const base = randomLog(23, 400, 200, 0.015);
    const extra = logOf([3, 9, 400], [5, 199, 200], [20_000, 20_001, 20_002]);
    const inc = await new UserCF({ workers: 0, itemWeight: "inverse", neighbors: 5 }).fit(
      datasetOf(base, 400, 200),
    );
    const rep = await inc.partialFit(extra);
    assert.equal(rep.fullRebuild, false);
    const full = await new UserCF({ workers: 0, itemWeight: "inverse", neighbors: 5 }).fit(
      datasetOf(concatLogs(base, extra), 401, 201),
    );
    const a = inc.similarity();
    const b = full.similarity();
    assert.deepEqual(a.offsets, b.offsets);
    assert.deepEqual(a.indices, b.indices);
    assert.deepEqual(a.scores, b.scores);
  });

  test("save/load round trip", async () => {
    const dir = await mkdtemp(join(tmpdir(), "usercf-"));
    try {
      const cf = await new UserCF({ workers: 0, similarity: "jaccard", neighbors: 4 }).fit(
        datasetOf(randomLog(24, 30, 20, 0.3), 30, 20),
      );
      await cf.save(join(dir, "m"));
      const back = await UserCF.load(join(dir, "m"));
      assert.deepEqual(back.params(), cf.params());
      assert.deepEqual((await back.recommend(ALL(30), 6)).ids, (await cf.recommend(ALL(30), 6)).ids);
      assert.deepEqual(
        back.recommendFromItems(Int32Array.of(1, 2, 3), 5).ids,
        cf.recommendFromItems(Int32Array.of(1, 2, 3), 5).ids,
      );
      assert.deepEqual(back.similarUsers(ALL(30), 3).ids, cf.similarUsers(ALL(30), 3).ids);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
