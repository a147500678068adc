import assert from "node:assert/strict";
import { test } from "node:test";
import { checkWatBytes } from "../../test/fixtures/wat-bytes.ts";
import { buildCsr } from "../math/csr.ts";
import { createWasmGemm } from "../math/gemm-wasm.ts";
import { Rng } from "../math/rng.ts";
import { closedFormRowReference } from "./als.reference.ts";
import { ALS_CG_WASM_BASE64 } from "./als-cg-wasm.bytes.ts";
import { alsWasmSupported } from "./als-cg-wasm.ts";
import { AlsEngine, allocAlsBuffers, gramWasmInto } from "./als-engine.ts";
import { cgSolveRows, GRAM_CHUNK, gramAddInto, symmetrizeInto } from "./als-kernels.ts";

test("embedded bytes match als-cg-wasm.wat assembled by wabt", (t) =>
  // wabt.js's validate() rejects shared memories even with `threads`; V8's validator checks below.
  checkWatBytes(t, {
    wat: new URL("./als-cg-wasm.wat", import.meta.url),
    constName: "ALS_CG_WASM_BASE64",
    embedded: ALS_CG_WASM_BASE64,
    features: { simd: true, threads: true, bulk_memory: true },
    validate: false,
  }));

test("WebAssembly SIMD + shared memory are supported here", () => {
  assert.ok(alsWasmSupported());
});

test("wasm CG: f steps reach the closed form; 3 steps match the JS kernel to f32 precision (f = 4, 16, 20, 64)", () => {
  for (const f of [4, 16, 20, 64]) {
    const nU = 9;
    const nI = 50;
    const rng = new Rng(f);
    const rows: number[] = [];
    const cols: number[] = [];
    for (let u = 0; u < nU; u++)
      for (let i = 0; i < nI; i++)
        if (u !== 4 && rng.next() < 0.2) {
          rows.push(u);
          cols.push(i);
        }
    const ui = buildCsr(nU, nI, Int32Array.from(rows), Int32Array.from(cols), null, "one");
    const nnz = ui.indices.length;
    const lambda = 0.1;
    const Y0 = Float32Array.from({ length: nI * f }, () => rng.next() - 0.5);
    const X0 = Float32Array.from({ length: nU * f }, () => (rng.next() - 0.5) * 0.1);
    const conf = Float32Array.from({ length: nnz }, () => 1 + 10 * rng.next());
    for (const steps of [3, f + 10]) {
      const b = allocAlsBuffers(f, steps, false, "wasm", nU, nI, nnz, 1);
      const e = new AlsEngine(b, 0);
      const [m] = e.matrices();
      m.offsets.set(ui.offsets);
      m.indices.set(ui.indices);
      m.conf.set(conf);
      e.X.set(X0);
      e.Y.set(Y0);
      gramAddInto(e.Y, f, 0, nI, e.G, 0);
      symmetrizeInto(e.G, f, lambda);
      e.G32.set(e.G);
      e.run({ op: "solve", side: 0 });
      const js = X0.slice();
      const w = () => new Float64Array(f);
      cgSolveRows(
        js,
        Y0,
        f,
        ui.offsets,
        ui.indices,
        conf,
        e.G,
        new Float32Array(nU),
        0,
        nU,
        steps,
        w(),
        w(),
        w(),
        w(),
      );
      for (let u = 0; u < nU; u++) {
        const got = e.X.subarray(u * f, u * f + f);
        const e0 = ui.offsets[u];
        const e1 = ui.offsets[u + 1];
        if (e0 === e1) {
          assert.ok(
            got.every((v) => v === 0),
            `empty row ${u} must be 0`,
          );
          continue;
        }
        const want =
          steps > f
            ? closedFormRowReference(Y0, nI, f, ui.indices.subarray(e0, e1), conf.subarray(e0, e1), lambda)
            : js.subarray(u * f, u * f + f);
        let err = 0;
        let scale = 0;
        for (let j = 0; j < f; j++) {
          err = Math.max(err, Math.abs(got[j] - want[j]));
          scale = Math.max(scale, Math.abs(want[j]));
        }
        assert.ok(err <= 2e-3 * scale, `f=${f} steps=${steps} u=${u}: ${err} vs ${scale}`);
      }
    }
  }
});

test("wasm Gram blocks (4×8 GEMM over Fᵀ panels) match the float64 JS Gram (f = 8, 24, 64; ragged row counts)", () => {
  const g = createWasmGemm();
  assert.ok(g !== null);
  for (const f of [8, 24, 64]) {
    for (const [r0, r1] of [
      [0, 1],
      [3, 70],
      [5, 5 + GRAM_CHUNK],
    ]) {
      const rng = new Rng(f + r1);
      const F = Float32Array.from({ length: r1 * f }, () => rng.next() - 0.5);
      g.reserve((2 * GRAM_CHUNK * f + f * f) * 4);
      const got = new Float64Array(f * f);
      gramWasmInto(g, F, f, r0, r1, got, 0);
      const want = new Float64Array(f * f);
      gramAddInto(F, f, r0, r1, want, 0);
      for (let a = 0; a < f; a++)
        for (let b = a; b < f; b++) {
          const w = want[a * f + b];
          assert.ok(
            Math.abs(got[a * f + b] - w) <= 1e-5 * (r1 - r0 + 1),
            `f=${f} rows ${r0}..${r1} (${a},${b})`,
          );
          assert.equal(got[a * f + b], got[b * f + a]);
        }
    }
  }
});
