import assert from "node:assert/strict";
import { test } from "node:test";
import { checkWatBytes } from "../../test/fixtures/wat-bytes.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { JsPairKernel, type SgnsCorpus, SgnsScratch, sgnsRange } from "./sgns.ts";
import { trainSgns } from "./sgns-train.ts";
import { SGNS_WASM_BASE64 } from "./sgns-wasm.bytes.ts";
import { createSgnsLayout, sgnsTables, sgnsWasmSupported, WasmPairKernel } from "./sgns-wasm.ts";

test("sgns-wasm: embedded bytes match sgns-wasm.wat assembled by wabt", (t) =>
  checkWatBytes(t, {
    wat: new URL("./sgns-wasm.wat", import.meta.url),
    constName: "SGNS_WASM_BASE64",
    embedded: SGNS_WASM_BASE64,
    features: { simd: true, threads: true },
  }));

test("sgns-wasm: supported on this runtime", () => {
  assert.ok(sgnsWasmSupported());
});

/** Random pair runs over n tokens; scale sets |f| (large scale drives σ into its clamped ends). */
function fillPairs(rng: Rng, buf: Int32Array, nPairs: number, n: number, maxT: number): void {
  let w = 0;
  for (let k = 0; k < nPairs; k++) {
    buf[w++] = rng.int(n);
    const nT = 1 + rng.int(maxT);
    buf[w++] = nT;
    for (let q = 0; q < nT; q++) buf[w++] = rng.int(n);
  }
}

for (const dim of [4, 12, 64]) {
  for (const [scale, skip] of [
    [0.5, false],
    [4, false],
    [4, true],
  ] as const) {
    test(`sgns-wasm: the WASM kernel matches the JS reference (dim ${dim}, |x| ≤ ${scale}, skip ${skip})`, () => {
      const n = 37;
      const rng = new Rng(dim * 10 + scale);
      const l = createSgnsLayout(n, dim, 2);
      assert.ok(l !== null);
      const { syn0, syn1 } = sgnsTables(l);
      for (let i = 0; i < syn0.length; i++) {
        syn0[i] = (rng.next() * 2 - 1) * scale;
        syn1[i] = (rng.next() * 2 - 1) * scale;
      }
      const ref0 = Float32Array.from(syn0);
      const ref1 = Float32Array.from(syn1);
      const wk = new WasmPairKernel(l, 1, skip);
      const jk = new JsPairKernel(ref0, ref1, dim, wk.buf.length, skip);
      const nPairs = 300;
      fillPairs(rng, wk.buf, nPairs, n, 7);
      jk.buf.set(wk.buf);
      // repeated rows make later pairs read earlier updates, as in training
      wk.run(nPairs, 0.05);
      jk.run(nPairs, 0.05);
      let moved = 0;
      // f32 (WASM) and f64 (JS) dot products can fall in neighbouring σ-table buckets (12/1000
      // wide): g then differs by ≤ lr·¼·0.012 = 1.5e-4, times |x| ≤ 4 per update; a wrong sign or
      // scale of g would be off by ~lr·|x| = 0.2
      const tol = scale > 1 ? 2e-3 : 2e-4;
      for (let i = 0; i < syn0.length; i++) {
        assert.ok(Math.abs(syn0[i] - ref0[i]) <= tol * (1 + Math.abs(ref0[i])), `syn0[${i}]`);
        assert.ok(Math.abs(syn1[i] - ref1[i]) <= tol * (1 + Math.abs(ref1[i])), `syn1[${i}]`);
      }
      const init = new Rng(dim * 10 + scale);
      for (let i = 0; i < syn0.length; i++) {
        const a = (init.next() * 2 - 1) * scale;
        init.next();
        if (Math.abs(a - ref0[i]) > 1e-6) moved++;
      }
      assert.ok(moved > syn0.length / 2, "the kernels changed the tables");
    });
  }
}

test("sgns-wasm: saturated pairs are clamped (word2vec) or skipped (gensim) by both kernels", () => {
  // input row x = (2, 2, 2, 2): f = 16 with target 1 (= x), −16 with target 2 (= −x)
  for (const skip of [false, true]) {
    const l = createSgnsLayout(3, 4, 1);
    assert.ok(l !== null);
    const { syn0, syn1 } = sgnsTables(l);
    syn0.set([2, 2, 2, 2], 0);
    syn1.set([2, 2, 2, 2], 4);
    syn1.set([-2, -2, -2, -2], 8);
    const r0 = Float32Array.from(syn0);
    const r1 = Float32Array.from(syn1);
    const wk = new WasmPairKernel(l, 0, skip);
    const jk = new JsPairKernel(r0, r1, 4, 16, skip);
    // pair 1: positive 2 (f = −16: σ clamps to 0, g = lr), negative 1 (f = 16: g = −lr)
    wk.buf.set([0, 2, 2, 1]);
    jk.buf.set([0, 2, 2, 1]);
    wk.run(1, 0.5);
    jk.run(1, 0.5);
    // clamped: syn1[2] += 0.5·x = −1 each, syn1[1] −= 0.5·x = 1 each; e = 0.5·(−2) − 0.5·2 = −2
    const want1 = skip ? [2, 2, 2, 2, -2, -2, -2, -2] : [1, 1, 1, 1, -1, -1, -1, -1];
    const want0 = skip ? [2, 2, 2, 2] : [0, 0, 0, 0];
    assert.deepEqual([...syn1.subarray(4)], want1);
    assert.deepEqual([...r1.subarray(4)], want1);
    assert.deepEqual([...syn0.subarray(0, 4)], want0);
    assert.deepEqual([...r0.subarray(0, 4)], want0);
  }
});

test("sgns-wasm: sgnsRange through the WASM kernel equals it through the JS kernel", () => {
  const dim = 16;
  const n = 30;
  const rng = new Rng(5);
  const offsets = Int32Array.from({ length: 41 }, (_, s) => s * 12);
  const tokens = Int32Array.from({ length: 480 }, () => rng.int(n));
  const corpus: SgnsCorpus = {
    offsets,
    tokens,
    keep: null,
    globalCtx: null,
    market: null,
    marketOffsets: null,
    marketItems: null,
    hardOffsets: null,
    hardItems: null,
  };
  const cfg = {
    dim,
    window: 3,
    negative: 4,
    nMarket: 0,
    nHard: 0,
    outputFrom: 0,
    alpha: 0.05,
    minAlpha: 0.001,
    epochs: 1,
  };
  const l = createSgnsLayout(n, dim, 1);
  assert.ok(l !== null);
  const { syn0, syn1 } = sgnsTables(l);
  for (let i = 0; i < syn0.length; i++) syn0[i] = (rng.next() - 0.5) / dim;
  const r0 = Float32Array.from(syn0);
  const r1 = new Float32Array(syn1.length);
  const order = Int32Array.from({ length: 40 }, (_, s) => s);
  const alias = new AliasTable(new Float64Array(n).fill(1));
  const args = [corpus, cfg, alias, order, 0, 40, 0, 480] as const;
  sgnsRange(syn0, syn1, ...args, new Rng(9), new SgnsScratch(12, dim, 5), new WasmPairKernel(l, 0));
  sgnsRange(r0, r1, ...args, new Rng(9), new SgnsScratch(12, dim, 5));
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < syn1.length; i++) {
    diff = Math.max(diff, Math.abs(syn1[i] - r1[i]), Math.abs(syn0[i] - r0[i]));
    norm = Math.max(norm, Math.abs(r1[i]));
  }
  assert.ok(norm > 1e-3, "training moved syn1");
  assert.ok(diff < 1e-5, `max difference ${diff}`);
});

test("sgns-wasm: trainSgns with 2 Hogwild workers on the WASM kernel learns co-occurrence", async () => {
  // tokens 0..9; 0 and 1 always adjacent, the rest shuffled around them
  const rng = new Rng(3);
  const seqs: number[] = [];
  const offsets = [0];
  for (let s = 0; s < 400; s++) {
    const rest = [2, 3, 4, 5, 6, 7, 8, 9];
    rng.shuffle(rest);
    const at = rng.int(7);
    rest.splice(at, 0, 0, 1);
    seqs.push(...rest);
    offsets.push(seqs.length);
  }
  const corpus: SgnsCorpus = {
    offsets: Int32Array.from(offsets),
    tokens: Int32Array.from(seqs),
    keep: null,
    globalCtx: null,
    market: null,
    marketOffsets: null,
    marketItems: null,
    hardOffsets: null,
    hardItems: null,
  };
  const config = {
    dim: 8,
    window: 1,
    negative: 3,
    nMarket: 0,
    nHard: 0,
    outputFrom: 0,
    alpha: 0.05,
    minAlpha: 0.001,
    epochs: 20,
  };
  const r = await trainSgns({
    nTokens: 10,
    corpus,
    config,
    negWeights: new Float64Array(10).fill(1),
    workers: 2,
    seed: 1,
    kernel: "wasm",
  });
  assert.equal(r.kernel, "wasm");
  assert.equal(r.effectiveWords, 20 * 4000);
  // with window 1, 0's context is 1 every time: syn0[0]·syn1[1] must beat syn0[0]·syn1[t] for t > 1
  const dot = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < 8; j++) s += r.syn0[a * 8 + j] * r.syn1[b * 8 + j];
    return s;
  };
  for (let t = 2; t < 10; t++) assert.ok(dot(0, 1) > dot(0, t) + 0.5, `token ${t}`);
});
