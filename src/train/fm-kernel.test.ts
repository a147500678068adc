import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as losses from "../losses/index.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { FmScratch, type FmSideTables, fmPairwiseSgdRange } from "./fm-kernel.ts";

/**
 * One BPR step of the fused kernel against finite differences: for the triple (u, t⁺, t⁻),
 * x = FM(u,t⁺) − FM(u,t⁻) − (log Q(t⁺) − log Q(t⁻)) computed by brute force over feature pairs in
 * float64, ℓ = −log σ(x); every parameter must move by −lr·∂ℓ/∂θ (l2 = 0). With a dropout range,
 * the dropped user features are left out of x and keep their values.
 */
const d = 3;
const nUF = 4; // user features: 0..1 "id", 2..3 attributes
const nIF = 5;

interface Params {
  Vu: Float64Array;
  Vi: Float64Array;
  wi: Float64Array;
}

const user = { idx: [1, 2, 3], val: [1, 0.5, 0.5] }; // row 0
const items = [
  { idx: [0, 3], val: [1, 1] }, // t⁺ = item 0
  { idx: [1, 3, 4], val: [1, 0.5, 0.5] }, // t⁻ = item 1 (shares feature 3 with t⁺)
];

/** FM(u,t) minus the user-only terms, brute force (5-23 over I(u,t), then drop u-only pairs). */
function fmItemPart(p: Params, t: number, dropLo: number, dropHi: number): number {
  const it = items[t];
  const feats: { v: Float64Array; o: number; x: number; user: boolean }[] = [];
  user.idx.forEach((f, e) => {
    if (f < dropLo || f >= dropHi) feats.push({ v: p.Vu, o: f * d, x: user.val[e], user: true });
  });
  it.idx.forEach((f, e) => {
    feats.push({ v: p.Vi, o: f * d, x: it.val[e], user: false });
  });
  let s = 0;
  for (let e = 0; e < it.idx.length; e++) s += p.wi[it.idx[e]] * it.val[e];
  for (let i = 0; i < feats.length; i++)
    for (let j = i + 1; j < feats.length; j++) {
      if (feats[i].user && feats[j].user) continue;
      let dot = 0;
      for (let k = 0; k < d; k++) dot += feats[i].v[feats[i].o + k] * feats[j].v[feats[j].o + k];
      s += dot * feats[i].x * feats[j].x;
    }
  return s;
}

function lossOf(p: Params, lq: Float32Array | null, lo: number, hi: number): number {
  let x = fmItemPart(p, 0, lo, hi) - fmItemPart(p, 1, lo, hi);
  if (lq !== null) x -= lq[0] - lq[1];
  return Math.log1p(Math.exp(-x));
}

function run(lq: Float32Array | null, drop: { from: number; to: number; p: number }) {
  const rng = new Rng(5);
  const p: Params = {
    Vu: Float64Array.from({ length: nUF * d }, () => rng.normal() * 0.5),
    Vi: Float64Array.from({ length: nIF * d }, () => rng.normal() * 0.5),
    wi: Float64Array.from({ length: nIF }, () => rng.normal() * 0.5),
  };
  const csr = (rows: { idx: number[]; val: number[] }[]) => ({
    offsets: Int32Array.from([
      0,
      ...rows.map((_, r) => rows.slice(0, r + 1).reduce((s, x) => s + x.idx.length, 0)),
    ]),
    indices: Int32Array.from(rows.flatMap((r) => r.idx)),
    values: Float32Array.from(rows.flatMap((r) => r.val)),
  });
  const uT: FmSideTables = { V: Float32Array.from(p.Vu), w: new Float32Array(nUF), ...csr([user]) };
  const iT: FmSideTables = { V: Float32Array.from(p.Vi), w: Float32Array.from(p.wi), ...csr(items) };
  // the float32 tables are the reference point of the finite differences
  const p0: Params = {
    Vu: Float64Array.from(uT.V),
    Vi: Float64Array.from(iT.V),
    wi: Float64Array.from(iT.w),
  };
  const lr = 1e-3;
  const pw = losses.bpr({ reduction: "sum" }).pairwise;
  assert.ok(pw !== null);
  const alias = new AliasTable([0, 1]); // the negative is always item 1
  const lo = drop.p >= 1 ? drop.from : 0;
  const hi = drop.p >= 1 ? drop.to : 0;
  const loss = fmPairwiseSgdRange(
    uT,
    iT,
    d,
    lr,
    0,
    1,
    alias,
    pw,
    Int32Array.of(0),
    Int32Array.of(0),
    0,
    1,
    new Rng(1),
    new FmScratch(d),
    drop,
    lq,
  );
  assert.ok(Math.abs(loss - lossOf(p0, lq, lo, hi)) < 1e-5, `loss ${loss} vs ${lossOf(p0, lq, lo, hi)}`);
  const h = 1e-6;
  const check = (name: keyof Params, after: Float32Array) => {
    for (let k = 0; k < after.length; k++) {
      const plus = { ...p0, [name]: Float64Array.from(p0[name]) };
      plus[name][k] += h;
      const minus = { ...p0, [name]: Float64Array.from(p0[name]) };
      minus[name][k] -= h;
      const g = (lossOf(plus, lq, lo, hi) - lossOf(minus, lq, lo, hi)) / (2 * h);
      const moved = after[k] - p0[name][k];
      // 1 %: a feature shared by t⁺ and t⁻ takes its two steps in turn (an O(lr²) difference)
      assert.ok(
        Math.abs(moved + lr * g) < 1e-2 * Math.abs(lr * g) + 1e-9,
        `${name}[${k}]: moved ${moved}, expected ${-lr * g}`,
      );
    }
  };
  check("Vu", uT.V);
  check("Vi", iT.V);
  check("wi", iT.w);
  return { uT, p0 };
}

describe("fmPairwiseSgdRange", () => {
  test("one BPR step = −lr·∂ℓ/∂θ by finite differences", () => {
    run(null, { from: 0, to: 0, p: 0 });
  });
  test("with log Q: the margin is shifted by log Q(t⁺) − log Q(t⁻), gradients follow", () => {
    // a large shift moves σ(−x) far from its unshifted value, so a missing shift fails the check
    run(Float32Array.of(Math.log(0.9), Math.log(0.001)), { from: 0, to: 0, p: 0 });
  });
  test("id dropout (p = 1): the dropped user features leave the score and keep their values", () => {
    const { uT, p0 } = run(null, { from: 0, to: 2, p: 1 });
    for (let k = 0; k < 2 * d; k++) assert.equal(uT.V[k], p0.Vu[k]); // feature 1 (id) untouched
  });
});
