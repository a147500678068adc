import assert from "node:assert/strict";
import { test } from "node:test";
import { checkGrad } from "../../test/fixtures/finite-diff.ts";
import { tinyHetero } from "../../test/fixtures/tiny-hetero.ts";
import type { LayerEdges } from "../graph/subgraph.ts";
import { Rng } from "../math/rng.ts";
import type { DenseLayer } from "./graph-dense.ts";
import {
  type FieldSchema,
  fmPoolBackwardInto,
  fmPoolInto,
  GraphTrCore,
  TypedAttentionFm,
  typedNeighbors,
} from "./graphtr.ts";
import { nodeTypeArray } from "./hetero-core.ts";

// Three node types: 0 = user, 1 = item, 2 = gender. Users see items (slot 1) and genders (slot 2);
// items see users (slot 1); genders see users (slot 1).
const schema: FieldSchema = {
  nTypes: 3,
  slot: Int32Array.of(-1, 1, 2, 1, -1, -1, 1, -1, -1),
  count: Int32Array.of(3, 2, 2),
  maxFields: 3,
};

test("FM pooling: first-order sum plus all pairwise products; backward equals finite differences", () => {
  // f = (1, 2), (3, 4), (5, 6): Σf = (9, 12); Σ_{i<j} f_i f_j = (1·3 + 1·5 + 3·5, 2·4 + 2·6 + 4·6) = (23, 44)
  const F = Float32Array.of(1, 2, 3, 4, 5, 6);
  const z = new Float32Array(2);
  fmPoolInto(F, 0, 3, 2, z, 0);
  assert.deepEqual([...z], [32, 56]);
  const rng = new Rng(3);
  const G = Float32Array.from({ length: 4 * 5 }, () => rng.normal());
  const c = Float32Array.from({ length: 5 }, () => rng.normal());
  const out = new Float32Array(5);
  const loss = () => {
    fmPoolInto(G, 0, 4, 5, out, 0);
    return out.reduce((s, v, j) => s + v * c[j], 0);
  };
  const dG = new Float32Array(G.length);
  fmPoolBackwardInto(G, 0, 4, 5, c, 0, dG);
  assert.ok(checkGrad(loss, G, dG, "F") === G.length);
});

function setIdentity(l: DenseLayer, d: number): void {
  l.W.fill(0);
  for (let j = 0; j < d; j++) l.W[j * d + j] = 1;
  l.b.fill(0);
}

test("per-type attention with the target as query: weights sum to one per type; hand-computed toy", () => {
  // user u (global 0) with items i0 (1), i1 (2) and gender g (3); d = 2, every projection = I.
  // h_u = (1, 0), h_i0 = (1, 0), h_i1 = (0, 1), h_g = (0, 2). q = h_u.
  //   items: e = (1, 0)/√2 → α = (σ(0.7071), 1 − σ(0.7071)) = (0.6697615, 0.3302385); s_item = (α0, α1)
  //   gender: one neighbour, α = 1, s_gender = (0, 2); self field f0 = h_u = (1, 0)
  //   z = Σf + Σ_{i<j} f_i f_j = (1 + α0, α1 + 2) + (α0, 2α1) = (2.3395230, 2.9907154)
  //   h = z / ‖z‖ = (0.6161389, 0.7876375)
  const layer = new TypedAttentionFm(2, schema, new Rng(1));
  for (const l of [layer.q, layer.self, ...layer.k, ...layer.v]) setIdentity(l, 2);
  const nodeType = Int32Array.of(0, 1, 1, 2);
  const prevIds = Int32Array.of(0, 1, 2, 3);
  const edges: LayerEdges = {
    offsets: Int32Array.of(0, 3),
    indices: Int32Array.of(1, 2, 3),
    weights: Float32Array.of(1 / 3, 1 / 3, 1 / 3),
  };
  const H = Float32Array.of(1, 0, 1, 0, 0, 1, 0, 2);
  const p = layer.forward(nodeType, prevIds, 4, 1, edges, H);
  assert.ok(Math.abs(p.alpha[0] + p.alpha[1] - 1) < 1e-6, "item weights sum to 1");
  assert.ok(Math.abs(p.alpha[2] - 1) < 1e-6, "the one gender weight is 1");
  assert.ok(Math.abs(p.alpha[0] - 0.6697615) < 1e-6);
  assert.ok(Math.abs(p.Z[0] - 2.339523) < 1e-5 && Math.abs(p.Z[1] - 2.9907154) < 1e-5, `z = ${p.Z}`);
  assert.ok(Math.abs(p.H[0] - 0.6161389) < 1e-6 && Math.abs(p.H[1] - 0.7876375) < 1e-6, `h = ${p.H}`);
});

test("GraphTR layer backward equals finite differences", () => {
  const rng = new Rng(21);
  const d = 3;
  const layer = new TypedAttentionFm(d, schema, rng);
  const all = [layer.q, layer.self, ...layer.k, ...layer.v];
  for (const l of all) {
    for (let j = 0; j < l.b.length; j++) l.b[j] = 0.3 * rng.normal();
    for (let t = 0; t < l.W.length; t++) l.W[t] *= 2;
  }
  // S_1 = {user 0, item 1} (a prefix of S_0); S_0 adds items 2, 3, gender 4, user 5
  const nodeType = Int32Array.of(0, 1, 1, 1, 2, 0);
  const prevIds = Int32Array.of(0, 1, 2, 3, 4, 5);
  const edges: LayerEdges = {
    // user 0 → items 1, 2, 3, gender 4; item 1 → users 0, 5
    offsets: Int32Array.of(0, 4, 6),
    indices: Int32Array.of(1, 2, 3, 4, 0, 5),
    weights: new Float32Array(6),
  };
  const H = Float32Array.from({ length: 6 * d }, () => rng.normal());
  const c = Float32Array.from({ length: 2 * d }, () => rng.normal());
  const loss = () => {
    const h = layer.forward(nodeType, prevIds, 6, 2, edges, H).H;
    let s = 0;
    for (let t = 0; t < c.length; t++) s += c[t] * h[t];
    return s;
  };
  const dH = layer.backward(nodeType, layer.forward(nodeType, prevIds, 6, 2, edges, H), c.slice());
  let nz = checkGrad(loss, H, dH, "H");
  all.forEach((l, i) => {
    nz += checkGrad(loss, l.W, l.dW, `layer${i}.W`);
    nz += checkGrad(loss, l.b, l.db, `layer${i}.b`);
  });
  assert.ok(nz > 60, `${nz} non-zero gradient entries checked`);
});

test("typed neighbour sampling: up to fanout per neighbour type, all of a type when it fits", () => {
  const g = tinyHetero(4, 12, 10, 6);
  const nodeType = nodeTypeArray(g);
  const s = typedNeighbors(g, nodeType, 3);
  const ids = new Int32Array(s.max);
  const w = new Float32Array(s.max);
  const rng = new Rng(1);
  for (let v = 0; v < g.nNodes; v++) {
    const m = s.sampleInto(v, rng, ids, w);
    const row = g.adjacency.indices.subarray(g.adjacency.offsets[v], g.adjacency.offsets[v + 1]);
    for (let t = 0; t < g.nodeTypes.length; t++) {
      const deg = row.filter((x) => nodeType[x] === t).length;
      const got = [...ids.subarray(0, m)].filter((x) => nodeType[x] === t);
      assert.equal(got.length, Math.min(deg, 3), `node ${v} type ${t}`);
      for (const x of got) assert.ok(row.includes(x));
      if (deg <= 3) assert.deepEqual(got, [...row.filter((x) => nodeType[x] === t)]);
    }
  }
});

test("GraphTR: full-graph inference equals mini-batch forward with all neighbours", () => {
  const g = tinyHetero(6, 10, 14, 3);
  const d = 6;
  const core = new GraphTrCore({ dim: d, layers: 2 });
  const rng = new Rng(2);
  core.prepareGraph(g, rng, 1000);
  core.initParameters(rng);
  const all = core.inferAll();
  for (const side of ["users", "items"] as const) {
    const ids = side === "users" ? Int32Array.of(4, 0, 9, 4) : Int32Array.of(13, 2, 7, 2, 0);
    const base = g.typeOffsets[side === "users" ? 0 : 1];
    const out = new Float32Array(ids.length * d);
    core.forwardInto(side, ids, ids.length, out);
    for (let i = 0; i < ids.length; i++)
      for (let j = 0; j < d; j++)
        assert.ok(
          Math.abs(out[i * d + j] - all[(base + ids[i]) * d + j]) < 1e-5,
          `${side} ${ids[i]} dim ${j}: ${out[i * d + j]} vs ${all[(base + ids[i]) * d + j]}`,
        );
  }
  // one neighbour per type in training: the mini-batch differs from inference
  core.prepareGraph(g, rng, 1);
  const ids = Int32Array.of(0, 1, 2, 3);
  const out = new Float32Array(ids.length * d);
  core.forwardInto("users", ids, ids.length, out);
  let diff = 0;
  for (let t = 0; t < out.length; t++) diff = Math.max(diff, Math.abs(out[t] - all[t]));
  assert.ok(diff > 1e-3, "sampling one neighbour per type changes the vectors");
});
