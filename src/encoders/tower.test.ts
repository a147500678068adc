import assert from "node:assert/strict";
import { test } from "node:test";
import { synthesize } from "../data/synthetic.ts";
import { Rng } from "../math/rng.ts";
import { encoderContext } from "./contract.ts";
import { Mlp } from "./dense.ts";
import type { TableStart } from "./spectral-init.ts";
import { historyCsr, type TowerOptions, tower } from "./tower.ts";
import type { SparseOptimizer } from "./types.ts";

const data = synthesize({ seed: 1, nUsers: 30, nItems: 20 });

/** SGD with lr 1 over any table: the update a row receives is exactly −gradient. */
const unit: SparseOptimizer = {
  name: "unit",
  sgd: { lr: 1, l2: 0 },
  scaleLearningRate() {},
  nextStep() {},
  bind(table, _rows, dim) {
    return {
      update(row, g, off) {
        for (let j = 0; j < dim; j++) table[row * dim + j] -= g[off + j];
      },
    };
  },
};

/**
 * For L = Σ w ⊙ tower(ids), the change `backward` makes to every parameter (embedding rows,
 * W, b) under unit SGD equals −∂L/∂θ by central differences.
 */
function checkGradient(name: string, o: TowerOptions): void {
  test(`tower ${name}: backward's update is −∂L/∂θ (central differences)`, () => {
    const side = o.side ?? "user";
    const nRows = side === "user" ? data.users.size : data.items.size;
    const enc = tower({ embDim: 4, layers: [6], dim: 3, activation: "tanh", initScale: 0.5, ...o });
    enc.prepare(encoderContext(nRows, data, { optimizer: unit }));
    const ids = Int32Array.of(0, 2, 2, nRows - 1, 1);
    const n = ids.length;
    const rng = new Rng(5);
    const w = new Float32Array(n * enc.dim).map(() => rng.normal());
    const out = new Float32Array(n * enc.dim);
    const L = (): number => {
      enc.forwardInto(ids, n, out);
      let s = 0;
      for (let e = 0; e < out.length; e++) s += w[e] * out[e];
      return s;
    };
    const params = enc.parameters();
    const before = params.map((p) => Float64Array.from(p));
    const h = 1e-2;
    const fd = params.map((p) => {
      const g = new Float64Array(p.length);
      for (let e = 0; e < p.length; e++) {
        const v = p[e];
        p[e] = v + h;
        const up = L();
        p[e] = v - h;
        const dn = L();
        p[e] = v;
        g[e] = (up - dn) / (2 * h);
      }
      return g;
    });
    L();
    enc.backward(ids, n, w);
    let checked = 0;
    params.forEach((p, k) => {
      for (let e = 0; e < p.length; e++) {
        const step = p[e] - before[k][e];
        const want = -fd[k][e];
        if (want !== 0) checked++;
        assert.ok(
          Math.abs(step - want) < 2e-3 + 1e-2 * Math.abs(want),
          `param ${k}[${e}]: update ${step}, expected ${want}`,
        );
      }
    });
    assert.ok(checked > 50, `only ${checked} non-zero gradients checked`);
  });
}

checkGradient("user, id + attributes + mean history", {});
checkGradient("user, attention pooling (profile query)", {
  history: { pooling: "attention", query: "profile" },
});
checkGradient("user, attention pooling (last-item query)", {
  history: { pooling: "attention", query: "last" },
});
checkGradient("user, history only (no id, no attributes), 2 hidden layers", {
  id: false,
  attributes: [],
  layers: [5, 4],
});
checkGradient("item, id + attributes", { side: "item" });
checkGradient("user, no dense layer (the sum of the blocks)", {
  layers: [],
  embDim: 3,
  dim: 3,
  outputLayer: false,
});
checkGradient("user, frozen mean history", { history: { frozen: true } });

test("mlp: relu layers, dX and dW against central differences", () => {
  const rng = new Rng(2);
  const m = new Mlp(5, [7, 3], "relu");
  m.init(rng);
  const n = 4;
  const X = new Float32Array(n * 5).map(() => rng.normal());
  const w = new Float32Array(n * 3).map(() => rng.normal());
  const L = (): number => {
    const y = m.forward(X, n);
    let s = 0;
    for (let e = 0; e < y.length; e++) s += w[e] * y[e];
    return s;
  };
  L();
  const dX = Float64Array.from(m.backward(w, false));
  const dW0 = Float64Array.from(m.gradients()[0]);
  const h = 1e-3;
  for (let e = 0; e < X.length; e++) {
    const v = X[e];
    X[e] = v + h;
    const up = L();
    X[e] = v - h;
    const dn = L();
    X[e] = v;
    assert.ok(Math.abs((up - dn) / (2 * h) - dX[e]) < 2e-3, `dX[${e}]`);
  }
  for (let e = 0; e < m.W[0].length; e++) {
    const v = m.W[0][e];
    m.W[0][e] = v + h;
    const up = L();
    m.W[0][e] = v - h;
    const dn = L();
    m.W[0][e] = v;
    assert.ok(Math.abs((up - dn) / (2 * h) - dW0[e]) < 2e-3, `dW0[${e}]`);
  }
});

test("tower: a row's target is dropped from its history in training, kept when serving", () => {
  const enc = tower({ embDim: 4, layers: [4], dim: 3, attributes: [], id: false });
  enc.prepare(encoderContext(data.users.size, data, { optimizer: unit }));
  const hist = historyCsr(data, data.users.size);
  const u = 3;
  const items = hist.indices.subarray(hist.offsets[u], hist.offsets[u + 1]);
  const last = items[items.length - 1];
  const ids = Int32Array.of(u);
  const served = new Float32Array(3);
  enc.forwardInto(ids, 1, served);
  enc.setTraining(true);
  enc.setTargets(Int32Array.of(last));
  const trained = new Float32Array(3);
  enc.forwardInto(ids, 1, trained);
  enc.setTraining(false);
  // same vector as features without that item (the tower keeps the last maxLen = 50 items)
  const rest = Array.from(items).filter((x) => x !== last);
  const viaFeatures = new Float32Array(3);
  enc.forwardFeatures([{ history: rest }], viaFeatures);
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(trained[j] - viaFeatures[j]) < 1e-6);
  assert.ok(
    served.some((v, j) => Math.abs(v - trained[j]) > 1e-6),
    "removing an item changes the vector",
  );
  // exportAll = forwardInto (serving mode)
  const all = enc.exportAll();
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(all[u * 3 + j] - served[j]) < 1e-6);
});

test("tower start: started id and history rows, and an output layer that sums the blocks", () => {
  const nRows = data.users.size;
  const fill =
    (v: number): TableStart =>
    (_ctx, table, dim) => {
      for (let r = 0; r < table.length / dim; r++)
        for (let j = 0; j < dim; j++) table[r * dim + j] = v * (r + 1) + j;
    };
  const enc = tower({
    embDim: 3,
    dim: 3,
    layers: [],
    attributes: [],
    start: { id: fill(10), history: fill(0.5) },
  });
  enc.prepare(encoderContext(nRows, data, { optimizer: unit }));
  const hist = historyCsr(data, nRows);
  const u = 4;
  const items = Array.from(hist.indices.subarray(hist.offsets[u], hist.offsets[u + 1])).slice(-50);
  const out = new Float32Array(3);
  enc.forwardInto(Int32Array.of(u), 1, out);
  for (let j = 0; j < 3; j++) {
    const pooled = items.reduce((s, i) => s + 0.5 * (i + 1) + j, 0) / items.length;
    assert.ok(Math.abs(out[j] - (10 * (u + 1) + j + pooled)) < 1e-3, `coordinate ${j}: ${out[j]}`);
  }
  assert.throws(
    () => tower({ embDim: 3, dim: 3, layers: [4], start: {} }),
    /encoders.tower: a start needs layers \[\] and embDim = dim/,
  );
  assert.throws(() => tower({ embDim: 4, dim: 3, layers: [], start: {} }), /embDim = dim/);
});

test("tower frozen history: the same pooled means from window sums (targets removed and refilled); history rows never move", () => {
  const nRows = data.users.size;
  const o: TowerOptions = { embDim: 4, dim: 3, layers: [5], attributes: [] };
  const live = tower({ ...o, history: { maxLen: 3 } });
  const frozen = tower({ ...o, history: { maxLen: 3, frozen: true } });
  live.prepare(encoderContext(nRows, data, { optimizer: unit }));
  frozen.prepare(encoderContext(nRows, data, { optimizer: unit }));
  const hist = historyCsr(data, nRows);
  // rows whose target is in the last-3 window (refilled from older items), older, or absent
  const ids: number[] = [];
  const targets: number[] = [];
  for (let u = 0; u < nRows && ids.length < 12; u++) {
    const its = hist.indices.subarray(hist.offsets[u], hist.offsets[u + 1]);
    if (its.length < 5) continue;
    ids.push(u, u, u);
    targets.push(its[its.length - 1], its[0], 10_000);
  }
  const n = ids.length;
  for (const t of [live, frozen]) {
    t.setTraining(true);
    t.setTargets(Int32Array.from(targets));
  }
  const a = new Float32Array(n * 3);
  const b = new Float32Array(n * 3);
  live.forwardInto(Int32Array.from(ids), n, a);
  frozen.forwardInto(Int32Array.from(ids), n, b);
  for (let k = 0; k < a.length; k++)
    assert.ok(Math.abs(a[k] - b[k]) < 1e-5, `value ${k}: ${a[k]} vs ${b[k]}`);
  // serving mode (no targets) too
  for (const t of [live, frozen]) t.setTraining(false);
  live.forwardInto(Int32Array.from(ids), n, a);
  frozen.forwardInto(Int32Array.from(ids), n, b);
  for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) < 1e-5);
  // a backward step moves the id rows and the MLP, never a history row
  const [E] = frozen.parameters();
  const before = E.slice();
  frozen.backward(Int32Array.from(ids), n, new Float32Array(n * 3).fill(1));
  const histFrom = nRows * 4;
  for (let k = histFrom; k < E.length; k++) assert.equal(E[k], before[k]);
  assert.ok(E.subarray(0, histFrom).some((v, k) => v !== before[k]));
  assert.throws(
    () => tower({ history: { pooling: "attention", frozen: true } }),
    /a frozen history needs mean pooling/,
  );
});
