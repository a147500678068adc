import assert from "node:assert/strict";
import { test } from "node:test";
import { BruteForceIndex } from "./brute-force.ts";
import { recallAtK, runAnnIndexContract, structuredVectors } from "./contract.ts";
import { createIndex } from "./factory.ts";
import { HnswIndex } from "./hnsw.ts";

runAnnIndexContract("HNSW", (dim, metric) => createIndex("HNSW16,efC=100,ef=200", dim, metric));

test("same seed, same graph: two builds answer identically; per-call ef changes the search", () => {
  const dim = 16;
  const items = structuredVectors(3, 3000, dim);
  const qs = structuredVectors(4, 100, dim);
  const a = new HnswIndex(dim, "ip", { m: 8, efConstruction: 40, ef: 10 }, { seed: 5 });
  const b = new HnswIndex(dim, "ip", { m: 8, efConstruction: 40, ef: 10 }, { seed: 5 });
  a.add(items);
  b.add(items);
  assert.deepEqual(Array.from(a.searchBatch(qs, 100, 10).ids), Array.from(b.searchBatch(qs, 100, 10).ids));
  const exact = new BruteForceIndex(dim, "ip");
  exact.add(items);
  const truth = exact.searchBatch(qs, 100, 10);
  const low = recallAtK(a.searchBatch(qs, 100, 10, { ef: 10 }), truth);
  const high = recallAtK(a.searchBatch(qs, 100, 10, { ef: 300 }), truth);
  assert.ok(high >= low && high >= 0.99, `recall ef=10 ${low}, ef=300 ${high}`);
  assert.equal(a.spec, "HNSW8,efC=40,ef=10");
});
