import assert from "node:assert/strict";
import { test } from "node:test";
import { TopK } from "../math/topk.ts";
import { BruteForceIndex } from "./brute-force.ts";
import { runAnnIndexContract, structuredVectors } from "./contract.ts";

runAnnIndexContract("Flat", (dim, metric) => new BruteForceIndex(dim, metric));

/** Reference: score every item in f64 and sort (score desc, id asc). */
function reference(
  items: Float32Array,
  q: Float32Array,
  dim: number,
  k: number,
  metric: "ip" | "l2",
): number[] {
  const n = items.length / dim;
  const s = Array.from({ length: n }, (_, i) => {
    let v = 0;
    for (let j = 0; j < dim; j++)
      v += metric === "ip" ? items[i * dim + j] * q[j] : -((items[i * dim + j] - q[j]) ** 2);
    return [v, i] as const;
  });
  return s
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

test("Flat equals a full sort across tile and block edges (n = 1, 3, 2047, 2049, 4100; 9 queries)", () => {
  const dim = 5;
  for (const n of [1, 3, 2047, 2049, 4100]) {
    const items = structuredVectors(n, n, dim, { rank: 3 });
    const qs = structuredVectors(n + 1, 9, dim, { rank: 3 });
    for (const metric of ["ip", "l2"] as const) {
      const index = new BruteForceIndex(dim, metric);
      index.add(items);
      const out = new TopK(9, 17);
      index.searchBatchInto(qs, 9, 17, out);
      for (let q = 0; q < 9; q++) {
        assert.deepEqual(
          Array.from(out.row(q).ids),
          reference(items, qs.subarray(q * dim, (q + 1) * dim), dim, 17, metric),
        );
      }
    }
  }
});
