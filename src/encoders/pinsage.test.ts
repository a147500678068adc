import assert from "node:assert/strict";
import { test } from "node:test";
import { checkGrad } from "../../test/fixtures/finite-diff.ts";
import { log, randomGraph } from "../../test/fixtures/tiny-graph.ts";
import { buildBipartiteGraph } from "../graph/bipartite.ts";
import { importanceNeighbors, walkVisitsInto } from "../graph/random-walk.ts";
import { fixedNeighbors, SubgraphScratch, sampleSubgraph, uniformNeighbors } from "../graph/subgraph.ts";
import { Rng } from "../math/rng.ts";
import { type ConvGraph, GraphConv } from "./graph-conv.ts";
import { PinSageCore } from "./pinsage.ts";

test("random walk with restart: visit frequencies match the chain's stationary distribution", () => {
  // users 0,1 — items 0,1,2 (nodes 2,3,4): u0–i0, u0–i1, u1–i1, u1–i2
  const g = buildBipartiteGraph(log([0, 0, 1, 1], [0, 1, 1, 2]), 2, 3);
  const s = 2; // item 0
  const r = 0.3;
  const N = g.nNodes;
  // X_{t+1} = uniform neighbour of (s w.p. r, else X_t): M[x][y] = r·P[s][y] + (1 − r)·P[x][y]
  const P = new Float64Array(N * N);
  for (let x = 0; x < N; x++)
    for (let e = g.offsets[x]; e < g.offsets[x + 1]; e++)
      P[x * N + g.indices[e]] = 1 / (g.offsets[x + 1] - g.offsets[x]);
  let pi = new Float64Array(N).fill(1 / N);
  for (let it = 0; it < 2000; it++) {
    const next = new Float64Array(N);
    for (let x = 0; x < N; x++)
      for (let y = 0; y < N; y++) next[y] += pi[x] * (r * P[s * N + y] + (1 - r) * P[x * N + y]);
    pi = next;
  }
  const counts = new Float64Array(N);
  const touched = new Int32Array(N);
  const steps = 400_000;
  walkVisitsInto(g, s, steps, r, false, new Rng(4), counts, touched);
  // visits to s itself are not counted: compare the other nodes' shares
  let rest = 0;
  for (let y = 0; y < N; y++) if (y !== s) rest += pi[y];
  let total = 0;
  for (let y = 0; y < N; y++) total += counts[y];
  for (let y = 0; y < N; y++) {
    if (y === s) continue;
    assert.ok(
      Math.abs(counts[y] / total - pi[y] / rest) < 0.005,
      `node ${y}: ${counts[y] / total} vs ${pi[y] / rest}`,
    );
  }
  // importance ranking: user 0 (adjacent) before item 1 before user 1 before item 2
  const imp = importanceNeighbors(g, new Rng(1), { steps: 20_000, restart: r, topT: 4 });
  assert.deepEqual(
    [...imp.neighbors.indices.subarray(imp.neighbors.offsets[s], imp.neighbors.offsets[s + 1])],
    [0, 3, 1, 4],
  );
  let sum = 0;
  for (let e = imp.neighbors.offsets[s]; e < imp.neighbors.offsets[s + 1]; e++)
    sum += imp.neighbors.values[e];
  assert.ok(Math.abs(sum - 1) < 1e-6, "weights are normalised visit counts");
});

test("sampled subgraphs contain exactly the required nodes per layer (Code 5-8)", () => {
  const g = randomGraph(3, 30, 40, 3);
  const rng = new Rng(8);
  const imp = importanceNeighbors(g, rng, { steps: 100, topT: 4 });
  for (const sampler of [fixedNeighbors(imp.neighbors), uniformNeighbors({ ...g, values: null }, 3)]) {
    const scratch = new SubgraphScratch(g.nNodes, sampler.max);
    const targets = Int32Array.of(5, 40, 5, 61, 12);
    const sub = sampleSubgraph(targets, targets.length, 3, sampler, new Rng(2), scratch);
    assert.deepEqual([...sub.layers[3]], [5, 40, 61, 12]);
    for (let i = 0; i < targets.length; i++) assert.equal(sub.layers[3][sub.targetIndex[i]], targets[i]);
    for (let k = 3; k >= 1; k--) {
      const rows = sub.layers[k];
      const prev = sub.layers[k - 1];
      assert.deepEqual([...prev.subarray(0, rows.length)], [...rows], "S_k is a prefix of S_(k−1)");
      const e = sub.edges[k];
      const want = new Set(rows);
      for (let u = 0; u < rows.length; u++) {
        let w = 0;
        for (let t = e.offsets[u]; t < e.offsets[u + 1]; t++) {
          const v = prev[e.indices[t]];
          want.add(v);
          w += e.weights[t];
          // a real neighbour: in the importance list (fixed) or the graph (uniform)
          const list = sampler.random ? g : imp.neighbors;
          assert.ok(list.indices.subarray(list.offsets[rows[u]], list.offsets[rows[u] + 1]).includes(v));
        }
        if (e.offsets[u + 1] > e.offsets[u]) assert.ok(Math.abs(w - 1) < 1e-6);
        if (!sampler.random)
          assert.equal(
            e.offsets[u + 1] - e.offsets[u],
            imp.neighbors.offsets[rows[u] + 1] - imp.neighbors.offsets[rows[u]],
          );
      }
      assert.deepEqual(new Set(prev), want, `S_${k - 1} = S_${k} ∪ N(S_${k}) exactly`);
      assert.equal(prev.length, want.size, "no duplicates");
    }
    for (const v of scratch.local) assert.equal(v, -1, "scratch cleared");
  }
});

test("full-graph inference equals mini-batch forward with all neighbours", () => {
  const g = randomGraph(5, 20, 25, 3);
  for (const kind of ["importance", "uniform"] as const) {
    const core = new PinSageCore({ dim: 16, layers: 2, neighbors: kind, topT: 5, walk: { steps: 200 } });
    const rng = new Rng(3);
    core.prepareGraph(g, rng);
    core.table = Float32Array.from({ length: g.nNodes * 16 }, () => rng.normal());
    core.conv = new GraphConv(16, 16, 2, rng);
    // GraphSAGE trains on sampled neighbours; with every neighbour it must match inference
    if (kind === "uniform") core.useTrainSampler(fixedNeighbors({ ...g, values: null }));
    (core as unknown as { rng: Rng }).rng = rng;
    const all = core.inferAll();
    const nodes = Int32Array.of(0, 7, 33, 44, 7, 19);
    const out = new Float32Array(nodes.length * 16);
    core.forwardNodesInto(nodes, nodes.length, out, "items");
    for (let i = 0; i < nodes.length; i++)
      for (let j = 0; j < 16; j++)
        assert.ok(
          Math.abs(out[i * 16 + j] - all[nodes[i] * 16 + j]) < 1e-5,
          `${kind} node ${nodes[i]} dim ${j}`,
        );
  }
});

test("convolution backward equals finite differences", () => {
  const rng = new Rng(12);
  const d = 4;
  const conv = new GraphConv(d, 3, 2, rng);
  // S_2 = {0, 1}, S_1 = {0, 1, 2}, S_0 = {0, 1, 2, 3}
  const g: ConvGraph = {
    sizes: [4, 3, 2],
    edges: [
      { offsets: Int32Array.of(0), indices: new Int32Array(0), weights: new Float32Array(0) },
      {
        offsets: Int32Array.of(0, 2, 3, 5),
        indices: Int32Array.of(1, 3, 2, 0, 3),
        weights: Float32Array.of(0.7, 0.3, 1, 0.5, 0.5),
      },
      {
        offsets: Int32Array.of(0, 2, 3),
        indices: Int32Array.of(1, 2, 0),
        weights: Float32Array.of(0.4, 0.6, 1),
      },
    ],
  };
  // biases > 0 keep the ReLUs away from their kinks
  for (const l of [...conv.Q, ...conv.W]) l.b.fill(0.5);
  const H0 = Float32Array.from({ length: 4 * d }, () => rng.normal());
  const c = Float32Array.from({ length: 2 * d }, () => rng.normal());
  const loss = () => {
    const p = conv.forward(g, H0);
    let s = 0;
    for (let t = 0; t < c.length; t++) s += c[t] * p.H[2][t];
    return s;
  };
  const pass = conv.forward(g, H0);
  const dH0 = conv.backward(pass, c.slice());
  const check = (x: Float32Array, grad: Float32Array, what: string) => checkGrad(loss, x, grad, what);
  let nonzero = check(H0, dH0, "H0");
  nonzero += check(conv.Q[0].W, conv.Q[0].dW, "Q1");
  nonzero += check(conv.W[1].W, conv.W[1].dW, "W2");
  nonzero += check(conv.W[0].b, conv.W[0].db, "w1");
  assert.ok(nonzero > 20, `${nonzero} non-zero gradient entries checked`);
});
