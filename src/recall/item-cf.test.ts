import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tinyDataset } from "../../test/fixtures/tiny-dataset.ts";
import { ItemCF, type ItemCFOptions } from "./item-cf.ts";
import { concatLogs, datasetOf, logOf, randomLog } from "./similarity.reference.ts";
import type { NeighborRows } from "./similarity.ts";

function sameRows(a: NeighborRows, b: NeighborRows): void {
  assert.deepEqual(Array.from(a.offsets), Array.from(b.offsets));
  assert.deepEqual(Array.from(a.indices), Array.from(b.indices));
  assert.deepEqual(Array.from(a.scores), Array.from(b.scores));
}

const ALL = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe("ItemCF", () => {
  test("checkerboard: top-1 is the one missing item of the user's parity", async () => {
    // Users 0..7, items 0..7: user u likes items of its parity except item (u + 2) % 8.
    const train: number[][] = [];
    for (let u = 0; u < 8; u++)
      train.push([0, 1, 2, 3, 4, 5, 6, 7].filter((i) => i % 2 === u % 2 && i !== (u + 2) % 8));
    const cf = await new ItemCF({ workers: 0 }).fit(tinyDataset({ train, nItems: 8 }));
    const top = await cf.recommend(ALL(8), 1);
    for (let u = 0; u < 8; u++) assert.equal(top.ids[u], (u + 2) % 8, `user ${u}`);
  });

  test("recommend = dense A[u,:]·S, seen items masked (exclude: null unmasks)", async () => {
    const log = randomLog(1, 40, 30, 0.2);
    const cf = await new ItemCF({
      workers: 0,
      userWeight: "inverse",
      alpha: 0.7,
      beta: 0.3,
      neighbors: 8,
    }).fit(datasetOf(log, 40, 30));
    const s = cf.similarity();
    const seen = Array.from({ length: 40 }, () => new Set<number>());
    for (let e = 0; e < log.length; e++) seen[log.users[e]].add(log.items[e]);
    const k = 6;
    for (const masked of [true, false]) {
      const top = await cf.recommend(ALL(40), k, masked ? {} : { exclude: null });
      for (let u = 0; u < 40; u++) {
        const r = new Float64Array(30);
        const touched = new Set<number>();
        for (const i of seen[u]) {
          for (let e = s.offsets[i]; e < s.offsets[i + 1]; e++) {
            r[s.indices[e]] += s.scores[e];
            touched.add(s.indices[e]);
          }
        }
        const want = [...touched]
          .filter((j) => !masked || !seen[u].has(j))
          .sort((a, b) => r[b] - r[a] || a - b)
          .slice(0, k);
        const got = Array.from(top.ids.subarray(u * k, u * k + top.counts[u]));
        assert.equal(got.length, want.length, `user ${u}`);
        for (let t = 0; t < got.length; t++) {
          assert.ok(Math.abs(r[got[t]] - r[want[t]]) < 1e-6, `user ${u} rank ${t}: ${got[t]} vs ${want[t]}`);
        }
        if (masked) for (const j of got) assert.ok(!seen[u].has(j), `user ${u}: seen item ${j} recommended`);
      }
    }
  });

  test("serving path: one user at a time, alternating k, equals the batch (scratch cached per k)", async () => {
    const cf = await new ItemCF({ workers: 0, neighbors: 8 }).fit(
      datasetOf(randomLog(5, 40, 30, 0.2), 40, 30),
    );
    const batch = { 3: await cf.recommend(ALL(40), 3), 7: await cf.recommend(ALL(40), 7) };
    for (let u = 0; u < 40; u++)
      for (const k of [3, 7] as const) {
        const one = cf.recommend(Int32Array.of(u), k);
        assert.ok(!(one instanceof Promise), "a single user is scored in-process, synchronously");
        const want = batch[k].row(u);
        assert.deepEqual(Array.from(one.row(0).ids), Array.from(want.ids), `user ${u} k ${k}`);
        assert.deepEqual(Array.from(one.row(0).scores), Array.from(want.scores), `user ${u} k ${k}`);
      }
  });

  test("similarItems: best first, never the item itself", async () => {
    const cf = await new ItemCF({ workers: 0, neighbors: 0 }).fit(
      datasetOf(randomLog(2, 30, 20, 0.3), 30, 20),
    );
    const top = cf.similarItems(ALL(20), 5);
    for (let i = 0; i < 20; i++) {
      const { ids, scores } = top.row(i);
      assert.ok(!ids.includes(i));
      for (let t = 1; t < scores.length; t++) assert.ok(scores[t - 1] >= scores[t]);
    }
  });

  test("recommendFromItems(history) = recommend(user) for implicit data", async () => {
    const log = randomLog(3, 30, 25, 0.2);
    const cf = await new ItemCF({ workers: 0, userWeight: "log" }).fit(datasetOf(log, 30, 25));
    const top = await cf.recommend(ALL(30), 5);
    for (let u = 0; u < 30; u++) {
      const hist = Int32Array.from([...log.items].filter((_, e) => log.users[e] === u));
      const one = cf.recommendFromItems(hist, 5);
      assert.deepEqual(one.row(0).ids, top.row(u).ids, `user ${u}`);
    }
    const ex = cf.recommendFromItems(Int32Array.of(0, 1), 25, Int32Array.of(2, 3));
    for (const j of ex.row(0).ids) assert.ok(![0, 1, 2, 3].includes(j));
  });

  describe("partialFit ≡ full rebuild on the concatenated log", () => {
    const cases: [string, ItemCFOptions, boolean][] = [
      ["cosine K=5", { neighbors: 5 }, false],
      [
        "asymmetric cosine, inverse users, unpruned",
        { userWeight: "inverse", alpha: 0.7, beta: 0.3, neighbors: 0 },
        false,
      ],
      [
        "jaccard, log users, weighted norms",
        { similarity: "jaccard", userWeight: "log", weightNorms: true },
        false,
      ],
      [
        "explicit pearson with shrink",
        { similarity: "pearson", values: "explicit", shrink: 2, neighbors: 6 },
        false,
      ],
      ["pair time decay + recency", { pairHalfLifeSec: 3000, recencyHalfLifeSec: 5000, neighbors: 4 }, false],
      [
        "euclidean, row-normalised",
        { similarity: "euclidean", values: "explicit", rowNormalize: "sum", neighbors: 7 },
        false,
      ],
      ["implicit pearson (global sums: full rebuild)", { similarity: "pearson" }, true],
    ];
    for (const [label, o, expectFull] of cases) {
      test(label, async () => {
        const base = randomLog(4, 200, 400, 0.015);
        // Two old users gain items (one of them a repeat), a brand-new user and a brand-new item appear.
        const extra = logOf(
          [3, 3, 17, 200, 200],
          [5, 399, 40, 7, 400],
          [20_000, 20_001, 20_002, 20_003, 20_004],
          [5, 2, 4, 1, 3],
        );
        const inc = await new ItemCF({ ...o, workers: 0 }).fit(datasetOf(base, 200, 400));
        const rep = await inc.partialFit(extra);
        assert.equal(rep.fullRebuild, expectFull);
        if (!expectFull) assert.ok(rep.rows <= 200, `recomputed ${rep.rows} of 401 rows`);
        const full = await new ItemCF({ ...o, workers: 0 }).fit(datasetOf(concatLogs(base, extra), 201, 401));
        sameRows(inc.similarity(), full.similarity());
        const a = await inc.recommend(ALL(201), 10);
        const b = await full.recommend(ALL(201), 10);
        assert.deepEqual(a.ids, b.ids);
        assert.deepEqual(a.scores, b.scores);
      });
    }
  });

  test("save/load round trip", async () => {
    const dir = await mkdtemp(join(tmpdir(), "itemcf-"));
    try {
      const cf = await new ItemCF({ workers: 0, values: "explicit", pairHalfLifeSec: 100, neighbors: 5 }).fit(
        datasetOf(randomLog(5, 30, 20, 0.3), 30, 20),
      );
      await cf.save(join(dir, "m"));
      const back = await ItemCF.load(join(dir, "m"));
      assert.equal(back.kind, "itemcf");
      assert.deepEqual(back.params(), cf.params());
      sameRows(back.similarity(), cf.similarity());
      assert.deepEqual((await back.recommend(ALL(30), 7)).ids, (await cf.recommend(ALL(30), 7)).ids);
      assert.deepEqual(back.similarItems(ALL(20), 3).scores, cf.similarItems(ALL(20), 3).scores);
      // The loaded model keeps the times, so it can still be updated incrementally.
      await back.partialFit(logOf([0], [19], [50_000], [3]));
      await cf.partialFit(logOf([0], [19], [50_000], [3]));
      sameRows(back.similarity(), cf.similarity());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("workers 0 and 2 give identical similarity and recommendations", async () => {
    const data = datasetOf(randomLog(6, 420, 300, 0.1), 420, 300);
    const o: ItemCFOptions = { preset: "gowalla" };
    const a = await new ItemCF({ ...o, workers: 0 }).fit(data);
    const b = await new ItemCF({ ...o, workers: 2 }).fit(data);
    sameRows(a.similarity(), b.similarity());
    const ra = await a.recommend(ALL(420), 20);
    const rb = await b.recommend(ALL(420), 20);
    assert.deepEqual(rb.ids, ra.ids);
    assert.deepEqual(rb.scores, ra.scores);
  });

  test("options are validated at the boundary", () => {
    assert.throws(() => new ItemCF({ neighbors: -1 }), /neighbors must be an integer/);
    assert.throws(() => new ItemCF({ similarity: "dice" as never }), /similarity "dice" is unknown/);
    assert.throws(() => new ItemCF({ preset: "nope" as never }), /preset "nope" is unknown/);
    assert.throws(() => new ItemCF().similarItems(Int32Array.of(0), 1), /call fit\(\) or load\(\) first/);
  });
});
