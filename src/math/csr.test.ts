import assert from "node:assert/strict";
import { test } from "node:test";
import { gemmNTReference } from "./blas.reference.ts";
import { gemmNT } from "./blas.ts";
import { buildCsr, columnCounts, csrHas, transposeCsr } from "./csr.ts";
import { Rng } from "./rng.ts";

test("buildCsr sorts rows and merges duplicates", () => {
  const rows = Int32Array.from([1, 0, 1, 1, 2]);
  const cols = Int32Array.from([3, 2, 0, 3, 1]);
  const vals = Float32Array.from([1, 2, 3, 4, 5]);
  const a = buildCsr(3, 4, rows, cols, vals, "sum");
  assert.deepEqual(Array.from(a.offsets), [0, 1, 3, 4]);
  assert.deepEqual(Array.from(a.indices), [2, 0, 3, 1]);
  assert.deepEqual(Array.from(a.values ?? []), [2, 3, 5, 5]);
  const b = buildCsr(3, 4, rows, cols, vals, "max");
  assert.deepEqual(Array.from(b.values ?? []), [2, 3, 4, 5]);
  const c = buildCsr(3, 4, rows, cols, null, "one");
  assert.equal(c.values, null);
  assert.ok(csrHas(c, 1, 3) && !csrHas(c, 1, 2));
  assert.deepEqual(Array.from(columnCounts(c)), [1, 1, 1, 1]);
  assert.throws(() => buildCsr(2, 2, Int32Array.from([2]), Int32Array.from([0]), null), /outside 2×2/);
});

test("transpose twice is the identity", () => {
  const r = new Rng(5);
  const n = 300;
  const rows = Int32Array.from({ length: n }, () => r.int(17));
  const cols = Int32Array.from({ length: n }, () => r.int(23));
  const vals = Float32Array.from({ length: n }, () => r.next());
  const a = buildCsr(17, 23, rows, cols, vals);
  const tt = transposeCsr(transposeCsr(a));
  assert.deepEqual(tt, a);
});

test("gemmNT matches the reference at odd sizes", () => {
  const r = new Rng(9);
  for (const m of [1, 3, 16, 17])
    for (const n of [1, 3, 15, 17])
      for (const dim of [1, 3, 16, 17]) {
        const A = Float32Array.from({ length: (m + 2) * dim }, () => r.normal());
        const B = Float32Array.from({ length: (n + 1) * dim }, () => r.normal());
        const C = new Float32Array(m * n);
        gemmNT(A, 2, m, B, 1, n, dim, C, 0, n);
        const ref = gemmNTReference(A.subarray(2 * dim), m, B.subarray(dim), n, dim);
        for (let i = 0; i < m * n; i++) assert.ok(Math.abs(C[i] - ref[i]) < 1e-4, `${m}x${n}x${dim} @${i}`);
      }
});
