/**
 * The conformance suite every `AnnIndex` runs (Hono's common.case.test.ts, implicit's test
 * mixin): `runAnnIndexContract("HNSW", (dim, metric) => createIndex("HNSW16,ef=200", dim, metric))`.
 * Exact expectations come from `BruteForceIndex` or are derived by hand in comments.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { RecallkitError } from "../errors.ts";
import { Rng } from "../math/rng.ts";
import type { TopK } from "../math/topk.ts";
import type { AnnIndex, Metric } from "./ann-index.ts";
import { BruteForceIndex } from "./brute-force.ts";
import { loadIndex } from "./factory.ts";

/**
 * Structured vectors like trained embeddings: x = s · (W z + ε), z ~ N(0, I_rank), W a fixed
 * dim × rank matrix, ε ~ N(0, noise²), s log-normal (σ = normSpread) so norms vary as popularity
 * does in MF factors. Rows [0, n) are items; pass another seed with the same `factorSeed` for
 * queries from the same model.
 */
export function structuredVectors(
  seed: number,
  n: number,
  dim: number,
  o: { rank?: number; noise?: number; normSpread?: number; factorSeed?: number } = {},
): Float32Array {
  const rank = o.rank ?? 8;
  const noise = o.noise ?? 0.1;
  const spread = o.normSpread ?? 0.5;
  const wr = new Rng(o.factorSeed ?? 1);
  const W = new Float64Array(dim * rank);
  for (let i = 0; i < W.length; i++) W[i] = wr.normal() / Math.sqrt(rank);
  const rng = new Rng(seed);
  const out = new Float32Array(n * dim);
  const z = new Float64Array(rank);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < rank; r++) z[r] = rng.normal();
    const s = Math.exp(spread * rng.normal());
    for (let j = 0; j < dim; j++) {
      let v = noise * rng.normal();
      for (let r = 0; r < rank; r++) v += W[j * rank + r] * z[r];
      out[i * dim + j] = s * v;
    }
  }
  return out;
}

/** Mean |found ∩ exact| / k over rows (exact rows hold k results). */
export function recallAtK(found: TopK, exact: TopK): number {
  let hit = 0;
  let total = 0;
  for (let q = 0; q < exact.n; q++) {
    const truth = new Set(exact.row(q).ids);
    total += truth.size;
    const f = found.row(q).ids;
    for (let j = 0; j < f.length; j++) if (truth.has(f[j])) hit++;
  }
  return total === 0 ? 1 : hit / total;
}

export type AnnIndexFactory = (dim: number, metric: Metric) => AnnIndex;

const METRICS: readonly Metric[] = ["ip", "cosine", "l2"];

function rows(t: TopK): number[][] {
  return Array.from({ length: t.n }, (_, q) => Array.from(t.row(q).ids));
}

export function runAnnIndexContract(name: string, make: AnnIndexFactory): void {
  describe(`AnnIndex contract: ${name}`, () => {
    // Items (dim 2): a=[1,0] b=[0,2] c=[3,3] d=[-1,0]; query q=[1,1].
    //   ip:      q·x = 1, 2, 6, −1                    → c b a d
    //   cosine:  .707, .707, 1, −.707 (a, b tie: a was added first) → c a b d
    //   l2:      −‖q−x‖² = −1, −2, −8, −5             → a b d c
    const hand: Record<Metric, { ids: number[]; scores: number[] }> = {
      ip: { ids: [2, 1, 0, 3], scores: [6, 2, 1, -1] },
      cosine: { ids: [2, 0, 1, 3], scores: [1, Math.SQRT1_2, Math.SQRT1_2, -Math.SQRT1_2] },
      l2: { ids: [0, 1, 3, 2], scores: [-1, -2, -5, -8] },
    };
    for (const metric of METRICS) {
      test(`${metric}: hand-derived order and scores`, () => {
        const index = make(2, metric);
        index.add(Float32Array.from([1, 0, 0, 2, 3, 3, -1, 0]));
        assert.equal(index.size, 4);
        assert.equal(index.metric, metric);
        const r = index.search(Float32Array.from([1, 1]), 4).row(0);
        assert.deepEqual(Array.from(r.ids), hand[metric].ids);
        for (let j = 0; j < r.scores.length; j++) {
          assert.ok(
            Math.abs(r.scores[j] - hand[metric].scores[j]) < 1e-5,
            `${metric} score ${j}: ${r.scores[j]}`,
          );
        }
        // k > size returns what there is; k = 2 the best two
        assert.equal(index.search(Float32Array.from([1, 1]), 10).counts[0], 4);
        assert.deepEqual(
          Array.from(index.search(Float32Array.from([1, 1]), 2).row(0).ids),
          hand[metric].ids.slice(0, 2),
        );
      });
    }

    const dim = 32;
    const items = structuredVectors(11, 2000, dim);
    const queries = structuredVectors(12, 200, dim);
    for (const metric of METRICS) {
      test(`${metric}: recall@10 against brute force ≥ 0.99 on 2,000 structured vectors`, () => {
        const index = make(dim, metric);
        index.add(items.subarray(0, 1200 * dim));
        index.add(items.subarray(1200 * dim)); // two batches: incremental adds must work too
        const exact = new BruteForceIndex(dim, metric);
        exact.add(items);
        const r = recallAtK(index.searchBatch(queries, 200, 10), exact.searchBatch(queries, 200, 10));
        assert.ok(r >= 0.99, `recall@10 = ${r}`);
      });
    }

    test("ip: a later batch with larger norms keeps recall (MIPS transform widens)", () => {
      const index = make(dim, "ip");
      const small = structuredVectors(21, 1000, dim, { normSpread: 0.2 });
      const big = structuredVectors(22, 500, dim, { normSpread: 0.2 });
      for (let i = 0; i < big.length; i++) big[i] *= 3;
      index.add(small);
      index.add(big);
      const exact = new BruteForceIndex(dim, "ip");
      exact.add(small);
      exact.add(big);
      const r = recallAtK(index.searchBatch(queries, 200, 10), exact.searchBatch(queries, 200, 10));
      assert.ok(r >= 0.99, `recall@10 = ${r}`);
    });

    test("batch equals single queries", () => {
      const index = make(dim, "ip");
      index.add(items.subarray(0, 500 * dim));
      const batch = index.searchBatch(queries.subarray(0, 17 * dim), 17, 7);
      for (let q = 0; q < 17; q++) {
        const one = index.search(queries.subarray(q * dim, (q + 1) * dim), 7);
        assert.deepEqual(Array.from(one.row(0).ids), Array.from(batch.row(q).ids));
      }
    });

    test("exclusions (list, predicate, CSR rows) are never returned", () => {
      const index = make(dim, "ip");
      index.add(
        items.subarray(0, 800 * dim),
        Int32Array.from({ length: 800 }, (_, i) => 10_000 + 3 * i),
      );
      const q = queries.subarray(0, 4 * dim);
      const base = index.searchBatch(q, 4, 20);
      // drop each query's own top 10 (ids from the unfiltered result) plus ids not in the index
      const offsets = Int32Array.from([0, 12, 24, 36, 48]);
      const indices = new Int32Array(48);
      for (let r = 0; r < 4; r++) {
        const top = base.row(r).ids.slice(0, 10).sort();
        indices.set([-5, ...top, 999_999], r * 12);
      }
      const viaRows = index.searchBatch(q, 4, 20, { exclude: { offsets, indices } });
      const reversed = index.searchBatch(q, 4, 20, { exclude: { offsets, indices, rows: [3, 2, 1, 0] } });
      for (let r = 0; r < 4; r++) {
        const banned = new Set(indices.subarray(r * 12, r * 12 + 12));
        const got = viaRows.row(r).ids;
        assert.equal(got.length, 20);
        for (const id of got) assert.ok(!banned.has(id), `query ${r}: excluded id ${id} returned`);
        assert.deepEqual(Array.from(got.slice(0, 10)), Array.from(base.row(r).ids.slice(10, 20)));
        const single = index.search(q.subarray(r * dim, (r + 1) * dim), 20, {
          exclude: indices.subarray(r * 12, r * 12 + 12),
        });
        assert.deepEqual(Array.from(single.row(0).ids), Array.from(got));
        const other = new Set(indices.subarray((3 - r) * 12, (3 - r) * 12 + 12));
        for (const id of reversed.row(r).ids) assert.ok(!other.has(id));
      }
      // business rule: only ids ≡ 1 (mod 2) pass
      const odd = index.searchBatch(q, 4, 20, { exclude: (id) => id % 2 === 0 });
      const exact = new BruteForceIndex(dim, "ip");
      exact.add(
        items.subarray(0, 800 * dim),
        Int32Array.from({ length: 800 }, (_, i) => 10_000 + 3 * i),
      );
      const oddExact = exact.searchBatch(q, 4, 20, { exclude: (id) => id % 2 === 0 });
      for (let r = 0; r < 4; r++) {
        assert.equal(odd.counts[r], 20);
        for (const id of odd.row(r).ids) assert.equal(id % 2, 1);
      }
      assert.ok(recallAtK(odd, oddExact) >= 0.95);
      const one = index.search(q.subarray(0, dim), 5, { exclude: () => true });
      assert.equal(one.counts[0], 0);
    });

    test("save/load round trip gives identical results, and adds after load work", async () => {
      const dir = await mkdtemp(join(tmpdir(), "rk-ann-"));
      try {
        for (const metric of METRICS) {
          const index = make(dim, metric);
          index.add(
            items.subarray(0, 600 * dim),
            Int32Array.from({ length: 600 }, (_, i) => 600 - i),
          );
          const before = index.searchBatch(queries.subarray(0, 50 * dim), 50, 10);
          await index.save(join(dir, metric));
          await index.save(join(dir, metric)); // overwrite in place
          const back = await loadIndex(join(dir, metric));
          assert.equal(back.spec, index.spec);
          assert.equal(back.dim, dim);
          assert.equal(back.metric, metric);
          assert.equal(back.size, 600);
          const after = back.searchBatch(queries.subarray(0, 50 * dim), 50, 10);
          assert.deepEqual(rows(after), rows(before));
          assert.deepEqual(Array.from(after.scores), Array.from(before.scores));
          back.add(
            items.subarray(600 * dim, 700 * dim),
            Int32Array.from({ length: 100 }, (_, i) => 1000 + i),
          );
          assert.equal(back.size, 700);
          const again = await loadIndex(join(dir, metric));
          assert.equal(again.size, 600);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test("bad input: wrong dim, k ≤ 0, duplicate or negative ids, non-finite values", () => {
      const index = make(4, "ip");
      const isArg = (e: unknown) => e instanceof RecallkitError && e.code === "RK_ERR_INVALID_ARGUMENT";
      assert.throws(() => index.add(new Float32Array(6)), isArg);
      index.add(new Float32Array(8).fill(1));
      assert.throws(() => index.search(new Float32Array(3), 1), isArg);
      assert.throws(() => index.searchBatch(new Float32Array(8), 3, 1), isArg);
      assert.throws(() => index.search(new Float32Array(4), 0), isArg);
      assert.throws(() => index.search(new Float32Array(4), -1), isArg);
      assert.throws(() => index.search(new Float32Array(4), 1.5), isArg);
      assert.throws(() => index.add(new Float32Array(4), Int32Array.from([1])), isArg);
      assert.throws(() => index.add(new Float32Array(8), Int32Array.from([7, 7])), isArg);
      assert.throws(() => index.add(new Float32Array(4), Int32Array.from([-2])), isArg);
      assert.throws(() => index.add(Float32Array.from([0, Number.NaN, 0, 0])), isArg);
      assert.equal(index.size, 2);
      assert.throws(() => make(0, "ip"), isArg);
      assert.throws(() => make(4, "dot" as Metric), isArg);
    });

    test("empty index returns empty rows", () => {
      const index = make(3, "cosine");
      const r = index.searchBatch(new Float32Array(6), 2, 5);
      assert.deepEqual(Array.from(r.counts), [0, 0]);
    });
  });
}
