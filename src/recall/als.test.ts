import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildCsr, type Csr, transposeCsr } from "../math/csr.ts";
import { Rng } from "../math/rng.ts";
import {
  alsReference,
  closedFormRowReference,
  implicitLossReference,
  normalEquationResidual,
} from "./als.reference.ts";
import { ALS, confidenceInto } from "./als.ts";
import { cgSolveRows, choleskySolveRows, gramAddInto, lossRows, symmetrizeInto } from "./als-kernels.ts";

/** Fixture generator: nU×nI with each cell observed with probability `density`, r ∈ {1..5}. */
function randomMatrix(seed: number, nU: number, nI: number, density: number): Csr {
  const rng = new Rng(seed);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let u = 0; u < nU; u++)
    for (let i = 0; i < nI; i++)
      if (rng.next() < density) {
        rows.push(u);
        cols.push(i);
        vals.push(1 + rng.int(5));
      }
  return buildCsr(nU, nI, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals));
}

function randomTable(seed: number, n: number, scale: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() - 0.5) * scale);
}

function gram(Y: Float32Array, n: number, f: number, lambda: number): Float64Array {
  const G = new Float64Array(f * f);
  gramAddInto(Y, f, 0, n, G, 0);
  symmetrizeInto(G, f, lambda);
  return G;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let t = 0; t < a.length; t++) {
    num = Math.max(num, Math.abs(a[t] - b[t]));
    den = Math.max(den, Math.abs(b[t]));
  }
  return num / Math.max(den, 1e-12);
}

const OPTS = { alpha: 10, confidence: "hkv", scaling: "linear", epsilon: 1 } as const;

test("confidence: hkv = 1 + α·r, implicit = α·r, log = base + α·log(1 + r/ε)", () => {
  const r = Float32Array.of(1, 3);
  const out = new Float32Array(2);
  confidenceInto(r, 2, { alpha: 40, confidence: "hkv", scaling: "linear", epsilon: 1 }, out);
  assert.deepEqual([...out], [41, 121]);
  confidenceInto(r, 2, { alpha: 40, confidence: "implicit", scaling: "linear", epsilon: 1 }, out);
  assert.deepEqual([...out], [40, 120]);
  confidenceInto(null, 2, { alpha: 2, confidence: "hkv", scaling: "log", epsilon: 0.5 }, out);
  assert.ok(Math.abs(out[0] - (1 + 2 * Math.log(3))) < 1e-6); // r = 1 for binary: log(1 + 1/0.5)
});

test("gram kernel matches YᵀY + λI at f = 1, 3, 15, 16, 17 and row counts not divisible by the tiles", () => {
  for (const f of [1, 3, 15, 16, 17]) {
    const n = 131;
    const Y = randomTable(f, n * f, 2);
    const G = gram(Y, n, f, 0.5);
    for (let a = 0; a < f; a++)
      for (let b = 0; b < f; b++) {
        let s = a === b ? 0.5 : 0;
        for (let i = 0; i < n; i++) s += Y[i * f + a] * Y[i * f + b];
        assert.ok(Math.abs(G[a * f + b] - s) < 1e-9 * (1 + Math.abs(s)), `f=${f} (${a},${b})`);
      }
  }
});

test("CG with f steps and Cholesky both match the dense closed form (YᵀC_uY + λI)⁻¹ YᵀC_u p(u)", () => {
  for (const f of [1, 3, 15, 16, 17]) {
    const nU = 12;
    const nI = 40;
    const ui = randomMatrix(100 + f, nU, nI, 0.2);
    const conf = new Float32Array(ui.indices.length);
    confidenceInto(ui.values, conf.length, OPTS, conf);
    const Y = randomTable(7 + f, nI * f, 1);
    const lambda = 0.1;
    const G = gram(Y, nI, f, lambda);
    const Xcg = randomTable(9, nU * f, 0.1);
    const Xch = new Float32Array(nU * f);
    const w = () => new Float64Array(f);
    cgSolveRows(
      Xcg,
      Y,
      f,
      ui.offsets,
      ui.indices,
      conf,
      G,
      new Float32Array(nU),
      0,
      nU,
      f + 10,
      w(),
      w(),
      w(),
      w(),
    );
    choleskySolveRows(
      Xch,
      Y,
      f,
      ui.offsets,
      ui.indices,
      conf,
      G,
      new Float32Array(nU),
      0,
      nU,
      new Float64Array(f * f),
      w(),
    );
    for (let u = 0; u < nU; u++) {
      const e0 = ui.offsets[u];
      const e1 = ui.offsets[u + 1];
      const items = ui.indices.subarray(e0, e1);
      const c = conf.subarray(e0, e1);
      const want = closedFormRowReference(Y, nI, f, items, c, lambda);
      const cg = Xcg.subarray(u * f, u * f + f);
      const ch = Xch.subarray(u * f, u * f + f);
      assert.ok(maxRelDiff(cg, want) < 2e-4, `CG f=${f} u=${u}: ${maxRelDiff(cg, want)}`);
      assert.ok(maxRelDiff(ch, want) < 1e-5, `Cholesky f=${f} u=${u}: ${maxRelDiff(ch, want)}`);
      // Invariant over the stored numbers: the normal-equation residual is small.
      assert.ok(normalEquationResidual(Y, nI, f, items, c, lambda, ch) < 1e-5);
      assert.ok(normalEquationResidual(Y, nI, f, items, c, lambda, cg) < 1e-4);
    }
  }
});

test("kernel loss equals the dense weighted loss Σ c(p − x·y)² + λ(‖X‖² + ‖Y‖²)", () => {
  const f = 5;
  const ui = randomMatrix(3, 20, 30, 0.2);
  const conf = new Float32Array(ui.indices.length);
  confidenceInto(ui.values, conf.length, OPTS, conf);
  const X = randomTable(1, 20 * f, 1);
  const Y = randomTable(2, 30 * f, 1);
  const lambda = 0.3;
  let yy = 0;
  for (const v of Y) yy += v * v;
  const got =
    lossRows(
      X,
      Y,
      f,
      ui.offsets,
      ui.indices,
      conf,
      gram(Y, 30, f, lambda),
      new Float32Array(20),
      0,
      20,
      new Float64Array(f),
      new Float64Array(f),
    ) +
    lambda * yy;
  const want = implicitLossReference(X, Y, f, ui, conf, lambda);
  assert.ok(Math.abs(got - want) < 1e-9 * want, `${got} vs ${want}`);
});

test("the weighted implicit loss decreases monotonically over iterations (CG wasm/js, Cholesky, ν = 0/1)", async () => {
  const ui = randomMatrix(5, 80, 60, 0.1);
  const cases = [
    { solver: "cg", kernel: "wasm", confidence: "hkv", nu: 0 },
    { solver: "cg", kernel: "js", confidence: "hkv", nu: 0 },
    { solver: "cg", kernel: "wasm", confidence: "implicit", nu: 1 },
    { solver: "cg", kernel: "js", confidence: "implicit", nu: 1 },
    { solver: "cholesky", kernel: "js", confidence: "hkv", nu: 1 },
    { solver: "cholesky", kernel: "js", confidence: "implicit", nu: 0 },
  ] as const;
  for (const { solver, kernel, confidence, nu } of cases) {
    {
      const m = await new ALS({
        kernel,
        regularizationExponent: nu,
        factors: 8,
        iterations: 12,
        alpha: 5,
        regularization: 0.1,
        solver,
        confidence,
        values: "weight",
        workers: 0,
        computeLoss: true,
        initScale: 0.1,
      }).fitMatrix(ui);
      assert.equal(m.losses.length, 12);
      for (let t = 1; t < m.losses.length; t++) {
        assert.ok(
          m.losses[t] <= m.losses[t - 1] * (1 + 1e-6),
          `${solver}/${kernel}/${confidence}/ν=${nu} it ${t}: ${m.losses[t - 1]} → ${m.losses[t]}`,
        );
      }
      assert.ok(m.losses[11] < m.losses[0]);
    }
  }
});

test("Cholesky ALS equals the dense reference ALS iteration for iteration", async () => {
  const f = 6;
  const ui = randomMatrix(11, 30, 25, 0.15);
  const m = await new ALS({
    factors: f,
    iterations: 3,
    alpha: 4,
    regularization: 0.2,
    solver: "cholesky",
    values: "weight",
    workers: 0,
    seed: 3,
  }).fitMatrix(ui);
  // Same initial factors: the model draws users then items from Rng(seed), uniform × initScale.
  const rng = new Rng(3);
  const X = Float32Array.from({ length: 30 * f }, () => rng.next() * 0.01);
  const Y = Float32Array.from({ length: 25 * f }, () => rng.next() * 0.01);
  const iu = transposeCsr(ui);
  const uc = new Float32Array(ui.indices.length);
  const ic = new Float32Array(ui.indices.length);
  const o = { alpha: 4, confidence: "hkv", scaling: "linear", epsilon: 1 } as const;
  confidenceInto(ui.values, uc.length, o, uc);
  confidenceInto(iu.values, ic.length, o, ic);
  alsReference(ui, uc, iu, ic, f, 0.2, 3, X, Y);
  const e = m.embeddings();
  assert.ok(maxRelDiff(e.users, X) < 1e-4, `users ${maxRelDiff(e.users, X)}`);
  assert.ok(maxRelDiff(e.items, Y) < 1e-4, `items ${maxRelDiff(e.items, Y)}`);
});

test("fold-in: an item re-solved against fixed user factors is its trained vector; a converged user too", async () => {
  const f = 6;
  const ui = randomMatrix(21, 40, 30, 0.15);
  const m = await new ALS({
    factors: f,
    iterations: 150,
    alpha: 3,
    regularization: 0.5,
    regularizationExponent: 1, // fold-in must rebuild the same per-row λ_u as training
    solver: "cholesky",
    values: "weight",
    workers: 0,
  }).fitMatrix(ui);
  const { users: X, items: Y } = m.embeddings();
  const iu = transposeCsr(ui);
  // Items were solved last, against the final X: fold-in must reproduce them to float32 precision.
  for (let i = 0; i < 30; i++) {
    const e0 = iu.offsets[i];
    const e1 = iu.offsets[i + 1];
    const y = m.foldInItem(iu.indices.slice(e0, e1), (iu.values as Float32Array).slice(e0, e1));
    assert.ok(maxRelDiff(y, Y.subarray(i * f, i * f + f)) < 1e-4, `item ${i}`);
  }
  // Users were solved against the previous Y; after 150 iterations ALS has converged.
  for (let u = 0; u < 40; u++) {
    const e0 = ui.offsets[u];
    const e1 = ui.offsets[u + 1];
    // Shuffled order and a split duplicate (2 + rest) must not matter: weights of duplicates add up.
    const items = Array.from(ui.indices.slice(e0, e1)).reverse();
    const w = Array.from((ui.values as Float32Array).slice(e0, e1)).reverse();
    if (items.length > 0 && w[0] > 1) {
      items.push(items[0]);
      w.push(1);
      w[0] -= 1;
    }
    const x = m.foldInUser(Int32Array.from(items), Float32Array.from(w));
    assert.ok(
      maxRelDiff(x, X.subarray(u * f, u * f + f)) < 1e-3,
      `user ${u}: ${maxRelDiff(x, X.subarray(u * f, u * f + f))}`,
    );
  }
  // A brand-new user: recommendFromItems scores its fold-in vector and hides its items.
  const top = m.recommendFromItems(Int32Array.of(2, 0, 1, 0), 5);
  assert.equal(top.counts[0], 5);
  for (const id of top.row(0).ids) assert.ok(id > 2);
  assert.throws(() => m.foldInUser(Int32Array.of(30)), /outside \[0, 30\)/);
});

test("workers 0 and 2 give bit-identical factors", async () => {
  const ui = randomMatrix(8, 700, 300, 0.02); // > 1 row chunk per side
  const a = await new ALS({ factors: 16, iterations: 3, workers: 0 }).fitMatrix(ui);
  const b = await new ALS({ factors: 16, iterations: 3, workers: 2 }).fitMatrix(ui);
  assert.deepEqual(a.embeddings().users, b.embeddings().users);
  assert.deepEqual(a.embeddings().items, b.embeddings().items);
});

test("recommend masks training items, batch ≡ singles; similarItems excludes the item; save/load round trip", async () => {
  // Checkerboard: users 0..9 like even items, 10..19 odd items (each sees all but one).
  const rows: number[] = [];
  const cols: number[] = [];
  for (let u = 0; u < 20; u++)
    for (let i = u < 10 ? 0 : 1; i < 20; i += 2)
      if (i !== (u % 10) * 2 + (u < 10 ? 0 : 1)) {
        rows.push(u);
        cols.push(i);
      }
  const ui = buildCsr(20, 20, Int32Array.from(rows), Int32Array.from(cols), null, "one");
  const m = await new ALS({ factors: 4, iterations: 10, regularization: 0.1, workers: 0 }).fitMatrix(ui);
  const users = Int32Array.from({ length: 20 }, (_, u) => u);
  const top = m.recommend(users, 1);
  for (let u = 0; u < 20; u++) assert.equal(top.ids[u], (u % 10) * 2 + (u < 10 ? 0 : 1), `user ${u}`);
  const one = m.recommend(Int32Array.of(13), 3);
  assert.deepEqual(one.row(0), m.recommend(users, 3).row(13));
  const unmasked = m.recommend(Int32Array.of(0), 20, { exclude: null });
  assert.equal(unmasked.counts[0], 20);
  // Cosine against a brute-force check; the item itself never appears.
  const sim = m.similarItems(Int32Array.of(4), 19);
  assert.equal(sim.counts[0], 19);
  assert.ok(!sim.row(0).ids.includes(4));
  const Y = m.embeddings().items;
  const cos = (a: number, b: number) => {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let j = 0; j < 4; j++) {
      ab += Y[a * 4 + j] * Y[b * 4 + j];
      aa += Y[a * 4 + j] ** 2;
      bb += Y[b * 4 + j] ** 2;
    }
    return ab / Math.sqrt(aa * bb);
  };
  sim.row(0).ids.forEach((id, j) => {
    assert.ok(Math.abs(sim.scores[j] - cos(4, id)) < 1e-5);
  });
  for (let j = 1; j < 19; j++) assert.ok(sim.scores[j] <= sim.scores[j - 1]);

  const dir = await mkdtemp(join(tmpdir(), "als-"));
  try {
    await m.save(join(dir, "m"));
    const l = await ALS.load(join(dir, "m"));
    assert.deepEqual(l.embeddings().users, m.embeddings().users);
    assert.deepEqual(l.embeddings().items, m.embeddings().items);
    assert.deepEqual(l.recommend(users, 3), m.recommend(users, 3));
    assert.deepEqual(l.params(), m.params());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("bad input is rejected with a message naming the value and the fix", async () => {
  assert.throws(() => new ALS({ factors: 0 }), /factors must be an integer ≥ 1, got 0/);
  const bad = buildCsr(2, 2, Int32Array.of(0, 1), Int32Array.of(0, 1), Float32Array.of(1, -2));
  await assert.rejects(
    new ALS({ values: "weight", workers: 0 }).fitMatrix(bad),
    /row 1, column 1\) has value -2/,
  );
  assert.throws(() => new ALS().recommend(Int32Array.of(0), 1), /fit\(\) or ALS.load\(\)/);
});
