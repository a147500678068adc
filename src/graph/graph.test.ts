import assert from "node:assert/strict";
import { test } from "node:test";
import { log, randomGraph } from "../../test/fixtures/tiny-graph.ts";
import { checkWatBytes } from "../../test/fixtures/wat-bytes.ts";
import { IdMap } from "../data/id-map.ts";
import { buildCsr } from "../math/csr.ts";
import { Rng } from "../math/rng.ts";
import type { AttributeField } from "../types.ts";
import { buildBipartiteGraph } from "./bipartite.ts";
import { buildHeteroGraph, nodeTypeIndex, nodeTypeOf } from "./hetero.ts";
import { buildItemItemGraph } from "./item-item.ts";
import { Propagation } from "./propagate.ts";
import { spmmRowsInto, spmmRowsReference } from "./spmm.ts";
import { SPMM_WASM_BASE64 } from "./spmm-wasm.bytes.ts";
import { WasmSpmm } from "./spmm-wasm.ts";

// users 0: {0, 1}, 1: {1}, 2: {1, 2}; (0, 1) is logged twice and counts once.
const tiny = log([0, 0, 0, 1, 2, 2], [0, 1, 1, 1, 1, 2]);

test("bipartite graph: both directions, degrees, Â_uv = 1/√(d_u d_v)", () => {
  const g = buildBipartiteGraph(tiny, 3, 3);
  assert.equal(g.nNodes, 6);
  // nodes: users 0..2, items 3..5
  assert.deepEqual([...g.degrees], [2, 1, 2, 1, 3, 1]);
  assert.deepEqual([...g.indices.subarray(g.offsets[0], g.offsets[1])], [3, 4]);
  assert.deepEqual([...g.indices.subarray(g.offsets[4], g.offsets[5])], [0, 1, 2]);
  // Â(user 0, item 1) = 1/√(2·3)
  assert.ok(Math.abs(g.values[g.offsets[0] + 1] - 1 / Math.sqrt(6)) < 1e-7);
  // symmetric: every stored (r, c) has (c, r) with the same value
  for (let r = 0; r < g.nNodes; r++)
    for (let e = g.offsets[r]; e < g.offsets[r + 1]; e++) {
      const c = g.indices[e];
      let found = -1;
      for (let f = g.offsets[c]; f < g.offsets[c + 1]; f++) if (g.indices[f] === r) found = f;
      assert.ok(found >= 0 && g.values[found] === g.values[e], `(${r}, ${c}) mirrored`);
    }
});

test("bipartite graph rejects ids outside the stated sizes", () => {
  assert.throws(() => buildBipartiteGraph(tiny, 3, 2), /outside 3 users × 2 items/);
});

test("item–item graph: co-engagement counts, top-T per row", () => {
  // items 0–1 share user 0; 1–2 share user 2 ⇒ w01 = 1, w12 = 1
  const g = buildItemItemGraph(tiny, 3, 3, { topT: 5 });
  assert.deepEqual([...g.indices.subarray(g.offsets[1], g.offsets[2])], [0, 2]);
  assert.deepEqual([...(g.values as Float32Array)], [1, 1, 1, 1]);
  // 4 users all with items {0, 1}, 1 with {0, 2}: row 0 keeps only item 1 at topT = 1
  const h = buildItemItemGraph(log([0, 0, 1, 1, 2, 2, 3, 3, 4, 4], [0, 1, 0, 1, 0, 1, 0, 1, 0, 2]), 5, 3, {
    topT: 1,
  });
  assert.deepEqual([...h.indices.subarray(h.offsets[0], h.offsets[1])], [1]);
  assert.equal((h.values as Float32Array)[h.offsets[0]], 4);
});

test("heterogeneous graph: typed nodes from attributes, one relation per direction", () => {
  const genre: AttributeField = {
    name: "genre",
    multi: true,
    vocab: IdMap.from(["a", "b"]),
    // item 0: a; item 1: a, b; item 2: b
    csr: buildCsr(3, 2, Int32Array.of(0, 1, 1, 2), Int32Array.of(0, 0, 1, 1), null, "one"),
  };
  const g = buildHeteroGraph({
    nUsers: 3,
    nItems: 3,
    train: tiny,
    itemAttributes: new Map([["genre", genre]]),
  });
  assert.deepEqual(g.nodeTypes, ["user", "item", "item:genre"]);
  assert.deepEqual([...g.typeOffsets], [0, 3, 6, 8]);
  assert.deepEqual(
    g.relations.map((r) => r.name),
    ["user->item", "item->user", "item->item:genre", "item:genre->item"],
  );
  const t = nodeTypeIndex(g, "item:genre");
  assert.equal(nodeTypeOf(g, 6), t);
  assert.equal(nodeTypeOf(g, 2), 0);
  assert.equal(nodeTypeOf(g, 5), 1);
  // item 1 (global 4): users 0, 1, 2 (relation 1) and genres a, b (globals 6, 7; relation 2)
  const a = g.adjacency;
  assert.deepEqual([...a.indices.subarray(a.offsets[4], a.offsets[5])], [0, 1, 2, 6, 7]);
  assert.deepEqual([...g.edgeTypes.subarray(a.offsets[4], a.offsets[5])], [1, 1, 1, 2, 2]);
  // genre b (global 7) → items 1, 2 (globals 4, 5) through relation 3
  assert.deepEqual([...a.indices.subarray(a.offsets[7], a.offsets[8])], [4, 5]);
  assert.deepEqual([...g.edgeTypes.subarray(a.offsets[7], a.offsets[8])], [3, 3]);
  assert.throws(() => buildHeteroGraph({ nUsers: 3, nItems: 3, train: tiny }, { itemFields: ["genre"] }));
});

test("SpMM kernels (register-blocked JS, WASM SIMD) equal the reference", () => {
  const g = randomGraph(3, 17, 15, 4);
  for (const dim of [8, 16, 48, 64, 5]) {
    const rng = new Rng(dim);
    const x = Float32Array.from({ length: g.nNodes * dim }, () => rng.normal());
    const ref = new Float32Array(g.nNodes * dim);
    const out = new Float32Array(g.nNodes * dim).fill(7);
    spmmRowsReference(g.offsets, g.indices, g.values, x, dim, ref, 0, g.nNodes);
    spmmRowsInto(g.offsets, g.indices, g.values, x, dim, out, 0, g.nNodes);
    for (let t = 0; t < ref.length; t++) assert.ok(Math.abs(out[t] - ref[t]) < 1e-5, `js dim ${dim} @${t}`);
    const w = WasmSpmm.create(g, dim, 2);
    if (dim % 16 !== 0) {
      assert.equal(w, null);
      continue;
    }
    assert.ok(w !== null, "WASM SIMD is available on Node 20");
    w.buffers[0].set(x);
    w.buffers[1].fill(7);
    w.spmm(0, 1, 3, 20); // a middle row range only
    for (let r = 0; r < g.nNodes; r++)
      for (let j = 0; j < dim; j++) {
        const got: number = w.buffers[1][r * dim + j];
        if (r < 3 || r >= 20) assert.equal(got, 7, "rows outside the range untouched");
        else assert.ok(Math.abs(got - ref[r * dim + j]) < 1e-5, `wasm dim ${dim} row ${r}`);
      }
  }
});

test("propagation = Σ α_k Â^k x against dense matrix powers (float64)", () => {
  const g = randomGraph(5, 9, 7, 3);
  const N = g.nNodes;
  const dense = new Float64Array(N * N);
  for (let r = 0; r < N; r++)
    for (let e = g.offsets[r]; e < g.offsets[r + 1]; e++) dense[r * N + g.indices[e]] = g.values[e];
  for (const dim of [16, 3]) {
    const rng = new Rng(11);
    const x = Float32Array.from({ length: N * dim }, () => rng.normal());
    const alphas = [0.4, 0.3, 0.2, 0.1];
    // expected: Σ α_k A^k x by repeated dense products
    const want = new Float64Array(N * dim);
    let cur = Float64Array.from(x);
    for (let k = 0; k <= 3; k++) {
      for (let t = 0; t < want.length; t++) want[t] += alphas[k] * cur[t];
      const next = new Float64Array(N * dim);
      for (let r = 0; r < N; r++)
        for (let c = 0; c < N; c++) {
          const a = dense[r * N + c];
          if (a !== 0) for (let j = 0; j < dim; j++) next[r * dim + j] += a * cur[c * dim + j];
        }
      cur = next;
    }
    for (const kernel of ["auto", "js"] as const) {
      const p = new Propagation(g, dim, 3, { alphas, kernel });
      if (dim === 16 && kernel === "auto") assert.equal(p.kernel, "wasm");
      const out = new Float32Array(N * dim);
      p.runInto(x, out);
      for (let t = 0; t < out.length; t++)
        assert.ok(Math.abs(out[t] - want[t]) < 1e-5, `${kernel} dim ${dim} @${t}`);
    }
  }
});

test("spmm-wasm.bytes.ts matches spmm-wasm.wat assembled by wabt", (t) =>
  checkWatBytes(t, {
    wat: new URL("./spmm-wasm.wat", import.meta.url),
    constName: "SPMM_WASM_BASE64",
    embedded: SPMM_WASM_BASE64,
    features: { simd: true },
  }));
