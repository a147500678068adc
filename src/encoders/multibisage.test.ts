import assert from "node:assert/strict";
import { test } from "node:test";
import { checkGrad } from "../../test/fixtures/finite-diff.ts";
import { tinyHetero } from "../../test/fixtures/tiny-hetero.ts";
import { uniformNeighbors } from "../graph/subgraph.ts";
import { Rng } from "../math/rng.ts";
import { MultiBiSageCore, RelationAttention, relationGraphs } from "./multibisage.ts";

function identity(att: RelationAttention): void {
  for (const l of [att.q, att.k, att.v]) {
    l.W.fill(0);
    for (let j = 0; j < att.dim; j++) l.W[j * att.dim + j] = 1;
    l.b.fill(0);
  }
}

test("relation attention: weights sum to one; fused output equals the hand-computed 3-node toy", () => {
  // d = 2, K = 2 relation embeddings per node, Wq = Wk = Wv = I, biases 0.
  // node 0: x1 = (2, 0), x2 = (0, 1). Scores q·k/√2: [[4, 0], [0, 1]]/√2
  //   a1 = softmax(2.8284, 0) = (0.9441928, 0.0558072); a2 = softmax(0, 0.7071) = (0.3302385, 0.6697615)
  //   o1 = a1·[x1; x2] = (1.8883856, 0.0558072); o2 = (0.6604769, 0.6697615)
  //   y = (o1 + o2 + x1 + x2) / 2 = (2.2744312, 0.8627844)
  // node 1: x1 = x2 = (1, 1): uniform attention, o_k = x, y = (2x + 2x)/2 = (2, 2)
  // node 2: x1 = x2 = 0: uniform attention, y = 0
  const att = new RelationAttention(2, new Rng(1));
  identity(att);
  const X = Float32Array.of(2, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0);
  const p = att.forward(X, 3, 2);
  for (let r = 0; r < 3 * 2; r++)
    assert.ok(Math.abs(p.A[r * 2] + p.A[r * 2 + 1] - 1) < 1e-6, `row ${r} sums to 1`);
  const want = [
    [0.9441928, 0.0558072, 0.3302385, 0.6697615],
    [0.5, 0.5, 0.5, 0.5],
    [0.5, 0.5, 0.5, 0.5],
  ];
  for (let i = 0; i < 3; i++)
    for (let t = 0; t < 4; t++) assert.ok(Math.abs(p.A[i * 4 + t] - want[i][t]) < 1e-6, `a[${i}][${t}]`);
  const y = [2.2744312, 0.8627844, 2, 2, 0, 0];
  for (let t = 0; t < 6; t++) assert.ok(Math.abs(p.Y[t] - y[t]) < 1e-5, `y[${t}] = ${p.Y[t]}, want ${y[t]}`);
});

test("relation attention backward equals finite differences", () => {
  const rng = new Rng(5);
  const d = 4;
  const K = 3;
  const n = 2;
  const att = new RelationAttention(d, rng);
  for (const l of [att.q, att.k, att.v]) for (let j = 0; j < l.b.length; j++) l.b[j] = 0.3 * rng.normal();
  // larger weights make the softmax far from uniform, so its gradient matters
  for (let t = 0; t < att.q.W.length; t++) att.q.W[t] *= 3;
  const X = Float32Array.from({ length: n * K * d }, () => rng.normal());
  const c = Float32Array.from({ length: n * d }, () => rng.normal());
  const loss = () => {
    const y = att.forward(X, n, K).Y;
    let s = 0;
    for (let t = 0; t < c.length; t++) s += c[t] * y[t];
    return s;
  };
  const dX = att.backward(att.forward(X, n, K), c);
  let nz = checkGrad(loss, X, dX, "X");
  for (const [name, l] of [
    ["q", att.q],
    ["k", att.k],
    ["v", att.v],
  ] as const) {
    nz += checkGrad(loss, l.W, l.dW, `${name}.W`);
    nz += checkGrad(loss, l.b, l.db, `${name}.b`);
  }
  assert.ok(nz > 60, `${nz} non-zero gradient entries checked`);
});

test("one bipartite graph per relation, both directions, global ids", () => {
  const g = tinyHetero(2, 6, 8, 3);
  const rels = relationGraphs(g);
  assert.deepEqual(
    rels.map((r) => r.name),
    ["user~item", "item~item:genre", "user~user:gender"],
  );
  for (const r of rels) {
    const a = r.adjacency;
    let m = 0;
    for (let v = 0; v < g.nNodes; v++)
      for (let e = a.offsets[v]; e < a.offsets[v + 1]; e++) {
        const w = a.indices[e];
        // the edge is in the union adjacency, joins the relation's two types, and has its reverse
        const u = g.adjacency;
        assert.ok(u.indices.subarray(u.offsets[v], u.offsets[v + 1]).includes(w));
        const tv = v < g.typeOffsets[1] ? 0 : v < g.typeOffsets[2] ? 1 : v < g.typeOffsets[3] ? 2 : 3;
        assert.ok(r.types.includes(tv));
        assert.ok(a.indices.subarray(a.offsets[w], a.offsets[w + 1]).includes(v));
        m++;
      }
    const want = g.relations
      .filter((x) => r.types.includes(x.src) && r.types.includes(x.dst))
      .reduce((s, x) => s + x.csr.indices.length, 0);
    assert.equal(m, want, `${r.name}: every edge of its two relations`);
  }
});

test("MultiBiSage: full-graph inference equals mini-batch forward with all neighbours", () => {
  const g = tinyHetero(3, 10, 14, 3);
  for (const kind of ["importance", "uniform"] as const) {
    const d = 8;
    // fanout above every degree: uniform sampling takes all neighbours, as inference does
    const core = new MultiBiSageCore({ dim: d, layers: 2, neighbors: kind, topT: 4, fanout: 1000 });
    const rng = new Rng(9);
    core.prepareGraph(g, rng);
    core.initParameters(rng);
    assert.deepEqual(core.relationsOf.users, [0, 2]);
    assert.deepEqual(core.relationsOf.items, [0, 1]);
    for (const side of ["users", "items"] as const) {
      const all = core.inferSide(side);
      const ids = side === "users" ? Int32Array.of(3, 0, 9, 3) : Int32Array.of(13, 2, 7, 2, 0);
      const out = new Float32Array(ids.length * d);
      core.forwardInto(side, ids, ids.length, out);
      for (let i = 0; i < ids.length; i++)
        for (let j = 0; j < d; j++)
          assert.ok(
            Math.abs(out[i * d + j] - all[ids[i] * d + j]) < 1e-5,
            `${kind} ${side} ${ids[i]} dim ${j}: ${out[i * d + j]} vs ${all[ids[i] * d + j]}`,
          );
    }
    // with a real fanout the mini-batch differs (sampling), so the check above can fail
    if (kind === "uniform") {
      core.useTrainSampler((a) => uniformNeighbors(a, 1));
      const ids = Int32Array.of(0, 1, 2, 3, 4, 5);
      const out = new Float32Array(ids.length * d);
      core.forwardInto("items", ids, ids.length, out);
      const all = core.inferSide("items");
      let diff = 0;
      for (let t = 0; t < out.length; t++) diff = Math.max(diff, Math.abs(out[t] - all[t]));
      assert.ok(diff > 1e-3, "one sampled neighbour changes the vectors");
    }
  }
});
