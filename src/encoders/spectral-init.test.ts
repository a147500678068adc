import assert from "node:assert/strict";
import { test } from "node:test";
import { denseNormalizedGram } from "../graph/spectral.reference.ts";
import { symmetricEigen } from "../math/eigen.ts";
import { MfSoftmax } from "../models/mf-softmax.ts";
import { datasetOf, logOf, randomLog } from "../recall/similarity.reference.ts";
import { encoderContext } from "./contract.ts";
import * as encoders from "./index.ts";

// test-only imports of models/ and recall/ fixtures: test files sit outside the import rule
const N_USERS = 30;
const N_ITEMS = 16;
const base = randomLog(6, N_USERS - 1, N_ITEMS, 0.25); // user 29 has no interactions
const data = datasetOf(logOf(Array.from(base.users), Array.from(base.items)), N_USERS, N_ITEMS);
const DIM = 4;

/** Items' start directions from the dense formula: d_i^1/2 v_i with v the top-DIM eigenvectors of R̃ᵀR̃. */
function referenceItemRows(): { rows: Float64Array[]; di: number[]; v: Float64Array } {
  const { p, di } = denseNormalizedGram(base.users, base.items, N_USERS, N_ITEMS);
  const { vectors: v } = symmetricEigen(p, N_ITEMS);
  const rows = Array.from({ length: N_ITEMS }, (_, i) =>
    Float64Array.from({ length: DIM }, (_, c) => Math.sqrt(di[i]) * v[i * N_ITEMS + c]),
  );
  return { rows, di, v };
}

/** cos(a_i, a_j) for all pairs: invariant to the eigenvectors' per-column signs. */
function cosines(rows: ArrayLike<number>[]): number[] {
  const out: number[] = [];
  const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));
  for (const a of rows)
    for (const b of rows) {
      let d = 0;
      for (let c = 0; c < DIM; c++) d += a[c] * b[c];
      out.push(d / (norm(a) * norm(b)));
    }
  return out;
}

test("spectralStart: item rows point along d_i^1/2 v_i, with the random start's norm scale·√dim", () => {
  const start = encoders.spectralStart({ scale: 0.1, iterations: 80 });
  const items = encoders.idTable({ dim: DIM, start: start.item });
  items.prepare(encoderContext(N_ITEMS, data));
  const got = Array.from({ length: N_ITEMS }, (_, i) => items.table.subarray(i * DIM, (i + 1) * DIM));
  const want = cosines(referenceItemRows().rows);
  cosines(got).forEach((c, t) => {
    assert.ok(Math.abs(c - want[t]) < 1e-4, `cos pair ${t}: ${c} vs ${want[t]}`);
  });
  for (const row of got) assert.ok(Math.abs(Math.hypot(...row) - 0.1 * Math.sqrt(DIM)) < 1e-5);
});

test("spectralStart: user rows are Σ_{i∈u} d_i^-1/2 v_i; a user without items keeps her random row", () => {
  const start = encoders.spectralStart({ iterations: 80 });
  const users = encoders.idTable({ dim: DIM, start: start.query });
  users.prepare(encoderContext(N_USERS, data));
  const random = encoders.idTable({ dim: DIM });
  random.prepare(encoderContext(N_USERS, data));
  const { di, v } = referenceItemRows();
  const want: Float64Array[] = [];
  for (let u = 0; u < N_USERS - 1; u++) {
    const row = new Float64Array(DIM);
    for (let e = 0; e < base.length; e++)
      if (base.users[e] === u)
        for (let c = 0; c < DIM; c++) row[c] += v[base.items[e] * N_ITEMS + c] / Math.sqrt(di[base.items[e]]);
    want.push(row);
  }
  const got = Array.from({ length: N_USERS - 1 }, (_, u) => users.table.subarray(u * DIM, (u + 1) * DIM));
  const w = cosines(want);
  cosines(got).forEach((c, t) => {
    assert.ok(Math.abs(c - w[t]) < 1e-4, `cos pair ${t}`);
  });
  const last = (N_USERS - 1) * DIM;
  assert.deepEqual(
    Array.from(users.table.subarray(last, last + DIM)),
    Array.from(random.table.subarray(last, last + DIM)),
  );
});

test('MfSoftmax start: "spectral" begins at the spectral rows (lr 1e-12 keeps them); a bad value is refused', async () => {
  const m = await new MfSoftmax({ start: "spectral", lr: 1e-12, epochs: 1, dim: DIM, workers: 0 }).fit(data);
  const e = m.embeddings();
  const start = encoders.spectralStart();
  const items = encoders.idTable({ dim: DIM, start: start.item });
  items.prepare(encoderContext(N_ITEMS, data));
  const want = cosines(
    Array.from({ length: N_ITEMS }, (_, i) => items.table.subarray(i * DIM, (i + 1) * DIM)),
  );
  const got = cosines(Array.from({ length: N_ITEMS }, (_, i) => e.items.subarray(i * DIM, (i + 1) * DIM)));
  got.forEach((c, t) => {
    assert.ok(Math.abs(c - want[t]) < 1e-5, `cos pair ${t}`);
  });
  assert.throws(
    () => new MfSoftmax({ start: "svd" as "spectral" }),
    /mf-softmax: start must be "random" or "spectral", got "svd"/,
  );
});

test("spectralStart history rows: d_i^-1/2 v_i under one shared scale, so a pooled history points along the user row", () => {
  const start = encoders.spectralStart({ scale: 0.1, iterations: 80, sides: ["query", "history"] });
  const hist = encoders.idTable({ dim: DIM, start: start.history });
  hist.prepare(encoderContext(N_ITEMS, data));
  const users = encoders.idTable({ dim: DIM, start: start.query });
  users.prepare(encoderContext(N_USERS, data));
  const { di, v } = referenceItemRows();
  // every row is the reference row times one common factor
  const ratio: number[] = [];
  for (let i = 0; i < N_ITEMS; i++)
    for (let c = 0; c < DIM; c++) {
      const want = v[i * N_ITEMS + c] / Math.sqrt(di[i]);
      if (Math.abs(want) > 1e-3) ratio.push(Math.abs(hist.table[i * DIM + c] / want));
    }
  for (const r of ratio) assert.ok(Math.abs(r - ratio[0]) < 1e-3 * ratio[0], `ratio ${r} vs ${ratio[0]}`);
  let mean = 0;
  for (let i = 0; i < N_ITEMS; i++) mean += Math.hypot(...hist.table.subarray(i * DIM, (i + 1) * DIM));
  assert.ok(Math.abs(mean / N_ITEMS - 0.1 * Math.sqrt(DIM)) < 1e-5);
  // the mean of a user's history rows is parallel to her user row
  for (let u = 0; u < N_USERS - 1; u++) {
    const pooled = new Float64Array(DIM);
    for (let e = 0; e < base.length; e++)
      if (base.users[e] === u) for (let c = 0; c < DIM; c++) pooled[c] += hist.table[base.items[e] * DIM + c];
    const row = users.table.subarray(u * DIM, (u + 1) * DIM);
    const cos = cosines([pooled, row])[1];
    assert.ok(cos > 1 - 1e-5, `user ${u}: cos ${cos}`);
  }
});
