import assert from "node:assert/strict";
import { test } from "node:test";
import { checkWatBytes } from "../../test/fixtures/wat-bytes.ts";
import * as losses from "../losses/index.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { BPR_WASM_BASE64 } from "./bpr-wasm.bytes.ts";
import {
  BPR_BLOCK,
  bprTables,
  bprWasmSupported,
  createBprLayout,
  isBprForm,
  WasmBprKernel,
} from "./bpr-wasm.ts";
import { pairwiseSgdBlocks, pairwiseSgdRange } from "./fused-pairwise.ts";
import { HogwildPool, hogwildKernel } from "./hogwild.ts";

test("bpr-wasm: embedded bytes match bpr-wasm.wat assembled by wabt", (t) =>
  checkWatBytes(t, {
    wat: new URL("./bpr-wasm.wat", import.meta.url),
    constName: "BPR_WASM_BASE64",
    embedded: BPR_WASM_BASE64,
    features: { simd: true, threads: true },
  }));

test("bpr-wasm: supported on this runtime", () => {
  assert.ok(bprWasmSupported());
});

test("bpr-wasm: isBprForm accepts BPR's pairwise form and rejects hinge's", () => {
  const bpr = losses.bpr({ reduction: "sum" }).pairwise;
  const hinge = losses.hinge({ reduction: "sum" }).pairwise;
  assert.ok(bpr !== null && hinge !== null);
  assert.ok(isBprForm(bpr));
  assert.ok(!isBprForm(hinge));
  // a softplus with a wrong gradient sign is not BPR either
  const flipped = {
    lossAndGrad(x: number, out: Float64Array) {
      bpr.lossAndGrad(x, out);
      out[1] = -out[1];
    },
  };
  assert.ok(!isBprForm(flipped));
});

test("bpr-wasm: one triple against the update rule derived by hand (float64)", () => {
  // u = (1, 2, 0, −1), v⁺ = (0.5, 0, 1, 0), v⁻ = (0, 0.25, 0, 1): x = u·(v⁺ − v⁻) = 0.5 − 0.5 + 1 = 1
  // g = −σ(−1) = −0.2689414…, loss = softplus(−1) = log(1 + e⁻¹) = 0.3132617…
  // s = lr·g, d = 1 − lr·l2; u' = d·u − s·(v⁺ − v⁻), v⁺' = d·v⁺ − s·u, v⁻' = d·v⁻ + s·u
  for (const x0 of [1, -3, 30, -30]) {
    const lr = 0.1;
    const l2 = 0.02;
    const l = createBprLayout(2, 3, 4, 1);
    assert.ok(l !== null);
    const { U, V } = bprTables(l);
    const scale = x0; // scales u so that x = x0
    const u = [1, 2, 0, -1].map((a) => a * scale);
    const vp = [0.5, 0, 1, 0];
    const vn = [0, 0.25, 0, 1];
    U.set(u, 4);
    V.set(vp, 8);
    V.set(vn, 0);
    const k = new WasmBprKernel(l, 0);
    k.buf.set([1, 2, 0]);
    const loss = k.run(1, lr, l2);
    const x = x0;
    const sig = 1 / (1 + Math.exp(x)); // σ(−x)
    const wantLoss = Math.log(1 + Math.exp(-x));
    assert.ok(
      Math.abs(loss - wantLoss) <= 1e-9 * Math.max(1, wantLoss),
      `x ${x}: loss ${loss} vs ${wantLoss}`,
    );
    const s = -lr * sig;
    const d = 1 - lr * l2;
    for (let j = 0; j < 4; j++) {
      const want = [d * u[j] - s * (vp[j] - vn[j]), d * vp[j] - s * u[j], d * vn[j] + s * u[j]];
      const got = [U[4 + j], V[8 + j], V[j]];
      for (let r = 0; r < 3; r++)
        assert.ok(
          Math.abs(got[r] - want[r]) <= 1e-6 * Math.max(1, Math.abs(want[r])),
          `x ${x} row ${r} j ${j}`,
        );
    }
    // the untouched query row stays 0
    assert.deepEqual([...U.subarray(0, 4)], [0, 0, 0, 0]);
  }
});

test("bpr-wasm: an accidental hit (t⁻ = t⁺) is skipped: no loss, no update", () => {
  const l = createBprLayout(1, 2, 4, 1);
  assert.ok(l !== null);
  const { U, V } = bprTables(l);
  U.set([1, 1, 1, 1]);
  V.set([1, 2, 3, 4, 5, 6, 7, 8]);
  const k = new WasmBprKernel(l, 0);
  k.buf.set([0, 1, 1]);
  assert.equal(k.run(1, 0.5, 0.1), 0);
  assert.deepEqual([...U], [1, 1, 1, 1]);
  assert.deepEqual([...V], [1, 2, 3, 4, 5, 6, 7, 8]);
});

/** Random pairs over nU × nV; few items, so rows repeat and negatives hit positives now and then. */
function pairs(rng: Rng, n: number, nU: number, nV: number): { q: Int32Array; t: Int32Array } {
  return {
    q: Int32Array.from({ length: n }, () => rng.int(nU)),
    t: Int32Array.from({ length: n }, () => rng.int(nV)),
  };
}

for (const dim of [4, 12, 64]) {
  for (const [scale, l2, negPerRow] of [
    [0.1, 0, 1],
    [0.1, 0.01, 3],
    [2, 0.005, 1], // |x| up to ~dim·4: σ in its tails
  ] as const) {
    test(`bpr-wasm: the WASM kernel equals the JS kernel (dim ${dim}, scale ${scale}, l2 ${l2}, ${negPerRow} negatives)`, () => {
      const nU = 23;
      const nV = 31;
      const rng = new Rng(dim * 100 + scale * 10 + negPerRow);
      const l = createBprLayout(nU, nV, dim, 2);
      assert.ok(l !== null);
      const { U, V } = bprTables(l);
      for (let i = 0; i < U.length; i++) U[i] = (rng.next() * 2 - 1) * scale;
      for (let i = 0; i < V.length; i++) V[i] = (rng.next() * 2 - 1) * scale;
      const U0 = Float32Array.from(U);
      const V0 = Float32Array.from(V);
      const rU = Float32Array.from(U);
      const rV = Float32Array.from(V);
      // more triples than one block, so the block boundary is crossed
      const n = Math.ceil((BPR_BLOCK * 1.5) / negPerRow);
      const { q, t } = pairs(rng, n, nU, nV);
      const alias = new AliasTable(new Float64Array(nV).fill(1));
      const lr = 0.05;
      const pw = losses.bpr({ reduction: "sum" }).pairwise;
      assert.ok(pw !== null);
      const seed = 17 + dim;
      const wl = pairwiseSgdBlocks(
        new WasmBprKernel(l, 1),
        lr,
        l2,
        negPerRow,
        alias,
        q,
        t,
        0,
        n,
        new Rng(seed),
      );
      const jl = pairwiseSgdRange(
        rU,
        rV,
        dim,
        lr,
        l2,
        negPerRow,
        alias,
        pw,
        q,
        t,
        0,
        n,
        new Rng(seed),
        new Float64Array(2),
      );
      // the same negatives: replay the draws and count the accidental hits both kernels skip
      const draws = new Rng(seed);
      let hits = 0;
      for (let e = 0; e < n; e++)
        for (let k = 0; k < negPerRow; k++) if (alias.sample(draws) === t[e]) hits++;
      assert.ok(hits > 10, `${hits} accidental hits`);
      assert.ok(Math.abs(wl - jl) <= 1e-5 * Math.abs(jl), `loss ${wl} vs ${jl}`);
      // f32 (WASM) vs float64-then-rounded (JS) arithmetic: a few ulps per step, over thousands
      // of steps on 54 rows; a wrong sign or scale of any term would be off by ~lr·|x|
      const tol = 1e-4;
      let diff = 0;
      let moved = 0;
      for (let i = 0; i < U.length; i++) {
        diff = Math.max(diff, Math.abs(U[i] - rU[i]) / (1 + Math.abs(rU[i])));
        if (Math.abs(rU[i] - U0[i]) > 1e-3) moved++;
      }
      for (let i = 0; i < V.length; i++) {
        diff = Math.max(diff, Math.abs(V[i] - rV[i]) / (1 + Math.abs(rV[i])));
        if (Math.abs(rV[i] - V0[i]) > 1e-3) moved++;
      }
      assert.ok(diff <= tol, `max relative difference ${diff}`);
      assert.ok(moved > (U.length + V.length) / 2, `training moved ${moved} coordinates`);
    });
  }
}

test("bpr-wasm: a 1-worker Hogwild pool equals the in-process JS kernel (wasm: within f32 tolerance; js: exactly)", async () => {
  const nU = 40;
  const nV = 50;
  const dim = 16;
  const rng = new Rng(4);
  const { q, t } = pairs(rng, 3000, nU, nV);
  const init0 = Float32Array.from({ length: (nU + nV) * dim }, () => (rng.next() - 0.5) * 0.2);
  const prob = new Float64Array(nV).fill(1 / nV);
  const loss = losses.bpr({ reduction: "sum" });
  const pw = loss.pairwise;
  assert.ok(pw !== null && pw.source !== undefined);
  // reference: two epochs in-process
  const rU = init0.slice(0, nU * dim);
  const rV = init0.slice(nU * dim);
  const alias = new AliasTable(prob);
  const ref = [0, 1].map((ep) =>
    pairwiseSgdRange(
      rU,
      rV,
      dim,
      0.1 / (ep + 1),
      0.01,
      2,
      alias,
      pw,
      q,
      t,
      0,
      q.length,
      new Rng(100 + ep),
      new Float64Array(2),
    ),
  );
  for (const kernel of ["wasm", "js"] as const) {
    const U = new Float32Array(new SharedArrayBuffer(nU * dim * 4));
    const V = new Float32Array(new SharedArrayBuffer(nV * dim * 4));
    U.set(init0.subarray(0, nU * dim));
    V.set(init0.subarray(nU * dim));
    const sq = new Int32Array(new SharedArrayBuffer(q.length * 4));
    const st = new Int32Array(new SharedArrayBuffer(t.length * 4));
    sq.set(q);
    st.set(t);
    const pool = await HogwildPool.start(
      1,
      { U, V, dim, lr: 0.1, l2: 0.01, negPerRow: 2, prob, loss: pw.source },
      kernel,
    );
    try {
      assert.equal(pool.kernel, kernel);
      for (const ep of [0, 1]) {
        const [r] = await pool.all<{ loss: number }>(() => ({
          q: sq,
          t: st,
          from: 0,
          to: q.length,
          seed: 100 + ep,
          lr: 0.1 / (ep + 1),
        }));
        // the encoders' tables hold each epoch's result (copied back from the WASM memory)
        assert.ok(
          Math.abs(r.loss - ref[ep]) <= 1e-5 * ref[ep],
          `${kernel} epoch ${ep}: loss ${r.loss} vs ${ref[ep]}`,
        );
      }
    } finally {
      await pool.close();
    }
    const tol = kernel === "js" ? 0 : 1e-5;
    for (let i = 0; i < U.length; i++)
      assert.ok(Math.abs(U[i] - rU[i]) <= tol, `${kernel} U[${i}] ${U[i]} vs ${rU[i]}`);
    for (let i = 0; i < V.length; i++)
      assert.ok(Math.abs(V[i] - rV[i]) <= tol, `${kernel} V[${i}] ${V[i]} vs ${rV[i]}`);
  }
});

test("bpr-wasm: hogwildKernel picks WASM for BPR at dim ≡ 0 (mod 4) only, unless asked for JS", () => {
  const bpr = losses.bpr({ reduction: "sum" }).pairwise;
  const hinge = losses.hinge({ reduction: "sum" }).pairwise;
  assert.ok(bpr !== null && hinge !== null);
  assert.equal(hogwildKernel(bpr, 64, "wasm"), "wasm");
  assert.equal(hogwildKernel(bpr, 6, "wasm"), "js");
  assert.equal(hogwildKernel(bpr, 64, "js"), "js");
  assert.equal(hogwildKernel(hinge, 64, "wasm"), "js");
});

test("bpr-wasm: a hinge loss keeps the JS kernel in the Hogwild pool", async () => {
  const pw = losses.hinge({ reduction: "sum" }).pairwise;
  assert.ok(pw !== null && pw.source !== undefined);
  const U = new Float32Array(new SharedArrayBuffer(8 * 4));
  const V = new Float32Array(new SharedArrayBuffer(8 * 4));
  const pool = await HogwildPool.start(1, {
    U,
    V,
    dim: 4,
    lr: 0.1,
    l2: 0,
    negPerRow: 1,
    prob: new Float64Array([0.5, 0.5]),
    loss: pw.source,
  });
  try {
    assert.equal(pool.kernel, "js");
  } finally {
    await pool.close();
  }
});
