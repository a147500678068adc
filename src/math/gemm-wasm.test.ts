import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkWatBytes } from "../../test/fixtures/wat-bytes.ts";
import { gemmNTReference } from "./blas.reference.ts";
import { gemmNT } from "./blas.ts";
import { GEMM_WASM_BASE64 } from "./gemm-wasm.bytes.ts";
import { createWasmGemm, gemmNTWasm, packPanelsInto, wasmSimdSupported } from "./gemm-wasm.ts";
import { Rng } from "./rng.ts";

function randomMatrix(rng: Rng, rows: number, dim: number): Float32Array {
  const x = new Float32Array(rows * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.next() * 2 - 1;
  return x;
}

describe("gemm-wasm", () => {
  it("embedded bytes match gemm-wasm.wat assembled by wabt", (t) =>
    checkWatBytes(t, {
      wat: new URL("./gemm-wasm.wat", import.meta.url),
      constName: "GEMM_WASM_BASE64",
      embedded: GEMM_WASM_BASE64,
      features: { simd: true },
    }));

  it("is supported on this runtime", () => {
    assert.ok(wasmSimdSupported());
  });

  it("packPanelsInto pads the last panel with zeros and gathers rows", () => {
    // rows [2, 0] of a 3×2 matrix, panels of 4: panel 0, p=0 → [x20, x00, 0, 0], p=1 → [x21, x01, 0, 0]
    const src = Float32Array.of(1, 2, 3, 4, 5, 6);
    const dst = new Float32Array(8).fill(9);
    const n = packPanelsInto(src, Int32Array.of(2, 0), 0, 2, 2, 4, dst, 0);
    assert.equal(n, 8);
    assert.deepEqual([...dst], [5, 1, 0, 0, 6, 2, 0, 0]);
  });

  const sizes = [1, 3, 15, 16, 17];
  it("matches gemmNTReference at sizes 1/3/15/16/17 for m, n and dim", () => {
    const g = createWasmGemm();
    assert.ok(g);
    const rng = new Rng(11);
    for (const m of sizes)
      for (const n of sizes)
        for (const dim of sizes) {
          const A = randomMatrix(rng, m + 2, dim);
          const B = randomMatrix(rng, n + 1, dim);
          // offset rows (aRow0 = 2, bRow0 = 1) and a wider ldc with a guard value
          const ldc = n + 3;
          const C = new Float32Array(m * ldc + 1).fill(7);
          gemmNTWasm(g, A, 2, m, B, 1, n, dim, C, 1, ldc);
          const ref = gemmNTReference(A.subarray(2 * dim), m, B.subarray(dim), n, dim);
          for (let i = 0; i < m; i++)
            for (let j = 0; j < ldc; j++) {
              const got = C[1 + i * ldc + j];
              if (j >= n) {
                if (1 + i * ldc + j < C.length) assert.equal(got, 7, "wrote outside the n columns");
                continue;
              }
              const want = ref[i * n + j];
              assert.ok(
                Math.abs(got - want) <= 1e-5 * (1 + dim),
                `m=${m} n=${n} dim=${dim} C[${i},${j}] ${got} vs ${want}`,
              );
            }
          assert.equal(C[0], 7);
        }
  });

  it("agrees with the JS gemmNT and handles dim 0", () => {
    const g = createWasmGemm();
    assert.ok(g);
    const rng = new Rng(3);
    const A = randomMatrix(rng, 33, 64);
    const B = randomMatrix(rng, 70, 64);
    const C1 = new Float32Array(33 * 70);
    const C2 = new Float32Array(33 * 70);
    gemmNT(A, 0, 33, B, 0, 70, 64, C1, 0, 70);
    gemmNTWasm(g, A, 0, 33, B, 0, 70, 64, C2, 0, 70);
    for (let i = 0; i < C1.length; i++) assert.ok(Math.abs(C1[i] - C2[i]) < 1e-4);
    const Z = new Float32Array(6).fill(5);
    gemmNTWasm(g, new Float32Array(0), 0, 2, new Float32Array(0), 0, 3, 0, Z, 0, 3);
    assert.deepEqual([...Z], [0, 0, 0, 0, 0, 0]);
  });

  it("above8 lists exactly the groups of 8 with a score above the row threshold, with lane masks", () => {
    const g = createWasmGemm();
    assert.ok(g);
    const rng = new Rng(5);
    const m = 5;
    const ng = 7;
    const ldc = 64;
    const cOff = 16; // floats
    const thrOff = cOff + m * ldc;
    const outOff = thrOff + m;
    g.reserve((outOff + m * ng) * 4);
    for (let i = 0; i < m * ldc; i++) g.f32[cOff + i] = rng.next() * 2 - 1;
    const thr = [0.9, 0.99, Number.NEGATIVE_INFINITY, 2, 0.5];
    thr.forEach((t, r) => {
      g.f32[thrOff + r] = t;
    });
    const want: number[] = [];
    for (let r = 0; r < m; r++)
      for (let q = 0; q < ng; q++) {
        let mask = 0;
        for (let b = 0; b < 8; b++) if (g.f32[cOff + r * ldc + 8 * q + b] > thr[r]) mask |= 1 << b;
        if (mask !== 0) want.push((r << 16) | (q << 8) | mask);
      }
    const n = g.above8(cOff * 4, ldc, m, ng, thrOff * 4, outOff * 4);
    assert.deepEqual([...g.i32.subarray(outOff, outOff + n)], want);
    assert.ok(want.some((c) => c >>> 16 === 2) && !want.some((c) => c >>> 16 === 3));
  });
});
