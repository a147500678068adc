import assert from "node:assert/strict";
import { test } from "node:test";
import { IdMap } from "../data/id-map.ts";
import { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";
import { lightGcn } from "./lightgcn.ts";
import type { EncoderContext, RowUpdater, SparseOptimizer } from "./types.ts";

function tinyData(): Dataset {
  const rng = new Rng(2);
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < 6; u++)
    for (let k = 0; k < 3; k++) {
      users.push(u);
      items.push(rng.int(5));
    }
  return {
    name: "tiny",
    users: IdMap.from(Array.from({ length: 6 }, (_, i) => `u${i}`)),
    items: IdMap.from(Array.from({ length: 5 }, (_, i) => `i${i}`)),
    train: {
      length: users.length,
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      weights: null,
      ts: null,
      events: null,
      eventNames: [],
      sessions: null,
    },
    test: null,
    itemAttributes: new Map(),
    userAttributes: new Map(),
    itemStats: null,
  };
}

/** An optimizer that records the gradient each row receives and changes nothing. */
function recorder(grads: Map<number, Float64Array>): SparseOptimizer {
  return {
    name: "record",
    sgd: null,
    nextStep() {},
    scaleLearningRate() {},
    bind(_t: Float32Array, _rows: number, dim: number): RowUpdater {
      return {
        update(row: number, g: Float32Array, off: number) {
          grads.set(row, Float64Array.from(g.subarray(off, off + dim)));
        },
      };
    },
  };
}

test("LightGCN backward (transpose propagation) equals finite differences", () => {
  const data = tinyData();
  const grads = new Map<number, Float64Array>();
  const dim = 16; // the WASM SIMD path
  const g = lightGcn({ dim, layers: 3, scale: 0.5 });
  const ctx = (nRows: number): EncoderContext => ({
    nRows,
    rng: new Rng(1),
    data,
    bags: null,
    optimizer: recorder(grads),
    sharedMemory: false,
  });
  g.users.prepare(ctx(6));
  g.items.prepare(ctx(5));
  const rng = new Rng(9);
  // L = Σ cu·F_users[uIds] + Σ ci·F_items[iIds] (a user and an item appear twice)
  const uIds = Int32Array.of(0, 3, 3, 5);
  const iIds = Int32Array.of(1, 1, 4);
  const cu = Float32Array.from({ length: uIds.length * dim }, () => rng.normal());
  const ci = Float32Array.from({ length: iIds.length * dim }, () => rng.normal());
  const loss = (): number => {
    const fu = g.users.exportAll();
    const fi = g.items.exportAll();
    let s = 0;
    for (let i = 0; i < uIds.length; i++)
      for (let j = 0; j < dim; j++) s += cu[i * dim + j] * fu[uIds[i] * dim + j];
    for (let i = 0; i < iIds.length; i++)
      for (let j = 0; j < dim; j++) s += ci[i * dim + j] * fi[iIds[i] * dim + j];
    return s;
  };
  const fu = new Float32Array(uIds.length * dim);
  g.users.forwardInto(uIds, uIds.length, fu);
  g.users.backward(uIds, uIds.length, cu);
  assert.equal(grads.size, 0, "the update waits for the item side");
  g.items.backward(iIds, iIds.length, ci);
  assert.ok(grads.size > 0);
  const table = g.core.table;
  const eps = 1e-2;
  let checked = 0;
  for (let r = 0; r < 11; r++)
    for (let j = 0; j < dim; j += 5) {
      const keep = table[r * dim + j];
      table[r * dim + j] = keep + eps;
      const lp = loss();
      table[r * dim + j] = keep - eps;
      const lm = loss();
      table[r * dim + j] = keep;
      const fd = (lp - lm) / (2 * eps);
      const got = grads.get(r)?.[j] ?? 0;
      assert.ok(Math.abs(fd - got) < 2e-3 * (1 + Math.abs(fd)), `row ${r} col ${j}: fd ${fd} vs ${got}`);
      if (Math.abs(fd) > 1e-3) checked++;
    }
  assert.ok(checked > 10, `${checked} non-zero gradient entries checked`);
});

test("LightGCN with 0 layers is the ID table; forward reads the propagated table", () => {
  const data = tinyData();
  const g = lightGcn({ dim: 4, layers: 0 });
  const ctx: EncoderContext = {
    nRows: 6,
    rng: new Rng(1),
    data,
    bags: null,
    optimizer: recorder(new Map()),
    sharedMemory: false,
  };
  g.users.prepare(ctx);
  g.items.prepare({ ...ctx, nRows: 5 });
  const out = new Float32Array(8);
  g.items.forwardInto(Int32Array.of(2, 0), 2, out);
  const t = g.core.table;
  assert.deepEqual([...out], [...t.subarray((6 + 2) * 4, (6 + 3) * 4), ...t.subarray(6 * 4, 7 * 4)]);
  assert.throws(() => g.items.prepare({ ...ctx, nRows: 7 }), /positives.userItem/);
});
