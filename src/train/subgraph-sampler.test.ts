import assert from "node:assert/strict";
import { test } from "node:test";
import { randomGraph } from "../../test/fixtures/tiny-graph.ts";
import { importanceNeighbors } from "../graph/random-walk.ts";
import { fixedNeighbors, type NeighborSampler, type Subgraph, uniformNeighbors } from "../graph/subgraph.ts";
import { Rng } from "../math/rng.ts";
import type { NegativeSampler } from "../negatives/types.ts";
import type { PositiveSource } from "../positives/types.ts";
import type { Dataset } from "../types.ts";
import { SubgraphPlanner } from "./subgraph-sampler.ts";

const nU = 40;
const nI = 60;
const g = randomGraph(5, nU, nI, 4);

/** A positive source of `batches` seeded random (user, item) batches of `B`. */
function randomPositives(batches: number, B: number): PositiveSource {
  let left = 0;
  return {
    name: "random",
    prepare: (_d: Dataset) => {
      throw new Error("not used");
    },
    epochSize: batches * B,
    startEpoch() {
      left = batches;
    },
    nextInto(rng, out, max) {
      if (left-- <= 0) return 0;
      const n = Math.min(B, max);
      for (let i = 0; i < n; i++) {
        out.q[i] = rng.int(nU);
        out.t[i] = rng.int(nI);
      }
      return n;
    },
  };
}

/** 3 shared uniform negatives per batch. */
const uniformShared: NegativeSampler = {
  name: "uniform",
  shared: true,
  inBatch: false,
  count: 3,
  prob: null,
  prepare() {},
  sampleInto(rng, _req, out) {
    for (let j = 0; j < 3; j++) out[j] = rng.int(nI);
  },
  observe() {},
  logQInto() {},
};

/** Drives the planner like the trainer does; returns each batch's (users, items) subgraphs. */
function drive(
  sampler: NeighborSampler,
  workers: number,
  seed: number,
  joint = false,
): { subs: Subgraph[]; served: number } {
  const planner = new SubgraphPlanner(() => ({ nUsers: nU, nNodes: g.nNodes, layers: 2, sampler }), {
    workers,
    depth: 2,
    joint,
  });
  const pos = planner.positives(randomPositives(7, 9));
  const neg = planner.negatives(uniformShared);
  const rng = new Rng(seed);
  const q = new Int32Array(9);
  const t = new Int32Array(9);
  const negs = new Int32Array(3);
  const subs: Subgraph[] = [];
  try {
    for (let epoch = 0; epoch < 2; epoch++) {
      pos.startEpoch(rng);
      for (let step = 0; ; step++) {
        const n = pos.nextInto(rng, { q, t }, 9);
        if (n === 0) break;
        neg.sampleInto(rng, { rows: n, queryIds: q, posIds: t, step }, negs);
        const users = Int32Array.from(q.subarray(0, n));
        const items = Int32Array.from([...t.subarray(0, n), ...negs], (i) => nU + i);
        if (joint) {
          assert.equal(planner.take("users", users, n), null, "joint plans have no per-side subgraphs");
          const s = planner.takeJoint(users, n);
          assert.ok(s !== null, `joint subgraph of batch ${step} was planned`);
          const top = s.layers[2];
          assert.deepEqual(
            [...s.targetIndex].map((i) => top[i]),
            [...users, ...items],
            "users' then items' targets",
          );
          subs.push(s);
          continue;
        }
        for (const [key, targets] of [
          ["users", users],
          ["items", items],
        ] as const) {
          const s = planner.take(key, targets, targets.length);
          assert.ok(s !== null, `${key} subgraph of batch ${step} was planned`);
          for (let i = 0; i < targets.length; i++) assert.equal(s.layers[2][s.targetIndex[i]], targets[i]);
          subs.push(s);
        }
        rng.next(); // the trainer's own draws between batches (e.g. id dropout) do not disturb the plan
      }
    }
    // a batch that was not planned is not served
    assert.equal(planner.take("users", Int32Array.of(1, 2), 2), null);
    return { subs, served: planner.served };
  } finally {
    planner.close();
  }
}

function plain(s: Subgraph) {
  return {
    layers: s.layers.map((l) => [...l]),
    edges: s.edges.map((e) => ({ o: [...e.offsets], i: [...e.indices], w: [...e.weights] })),
    targetIndex: [...s.targetIndex],
  };
}

test("producer/consumer: worker-sampled subgraphs equal the inline ones for the same seed", () => {
  const imp = importanceNeighbors(g, new Rng(2), { steps: 100, topT: 4 });
  for (const sampler of [fixedNeighbors(imp.neighbors), uniformNeighbors({ ...g, values: null }, 3)]) {
    const inline = drive(sampler, 0, 11);
    const worker = drive(sampler, 1, 11);
    const two = drive(sampler, 2, 11);
    assert.equal(inline.subs.length, 2 * 2 * 7);
    assert.equal(worker.served, inline.subs.length, "every batch's subgraphs came from the planner");
    assert.deepEqual(worker.subs.map(plain), inline.subs.map(plain));
    assert.deepEqual(two.subs.map(plain), inline.subs.map(plain));
    // the seed matters (uniform sampling differs; the fixed top-T does not draw)
    if (sampler.random)
      assert.notDeepEqual(
        drive(sampler, 0, 12).subs.map(plain),
        inline.subs.map(plain),
        "another seed, other subgraphs",
      );
    // joint plans (one subgraph per step for both sides): the same in workers and inline
    const jInline = drive(sampler, 0, 11, true);
    const jWorker = drive(sampler, 1, 11, true);
    assert.equal(jWorker.served, 2 * 7);
    assert.deepEqual(jWorker.subs.map(plain), jInline.subs.map(plain));
  }
});

test("joint pass: one forward/backward over both sides' subgraph = two separate passes, one step", async () => {
  // PinSage's importance neighbours are fixed, so every node's state is the same in either pass
  // and the joint backward sums both sides' gradients: outputs equal, parameters after one SGD
  // step equal up to float rounding. (Over many steps τ = 0.1 softmax amplifies the rounding.)
  const { plantedClusters } = await import("./fixtures.ts");
  const { PinSageCore } = await import("../encoders/pinsage.ts");
  const { sgd } = await import("./optimizers/sgd.ts");
  const { sampleSubgraph, SubgraphScratch } = await import("../graph/subgraph.ts");
  const P = plantedClusters(2, 60, 40, 4, 6);
  const users = Int32Array.of(0, 5, 7, 5, 11);
  const items = Int32Array.of(3, 9, 9, 20, 1, 33, 2);
  const step = (joint: boolean) => {
    const core = new PinSageCore({ dim: 8, layers: 2, topT: 3, scale: 0.1 });
    const opt = sgd({ lr: 0.5 });
    const ctx = { nRows: 60, rng: new Rng(1), data: P.data, bags: null, optimizer: opt, sharedMemory: false };
    core.prepare(ctx, "users");
    const plan = core.samplingPlan() as NonNullable<ReturnType<typeof core.samplingPlan>>;
    const sc = new SubgraphScratch(plan.nNodes, plan.sampler.max);
    const itemNodes = Int32Array.from(items, (i) => 60 + i);
    let joints = 0;
    core.useSubgraphSource({
      take: (_key, t, n) => (joint ? null : sampleSubgraph(t, n, 2, plan.sampler, new Rng(0), sc)),
      takeJoint: (u, n) => {
        if (!joint) return null;
        joints++;
        const both = Int32Array.from([...u.subarray(0, n), ...itemNodes]);
        return sampleSubgraph(both, both.length, 2, plan.sampler, new Rng(0), sc);
      },
    });
    const Q = new Float32Array(5 * 8);
    const C = new Float32Array(7 * 8);
    core.forwardInto("users", users, 5, Q);
    core.forwardInto("items", items, 7, C);
    opt.nextStep();
    core.backward(
      "users",
      users,
      5,
      Q.map((_, i) => 0.3 * Math.sin(i)),
    );
    core.backward(
      "items",
      items,
      7,
      C.map((_, i) => 0.3 * Math.cos(i)),
    );
    return { Q, C, joints, params: core.parameters().map((p) => p.slice()), init: ctx };
  };
  const a = step(true);
  const b = step(false);
  assert.equal(a.joints, 1, "the joint path ran");
  assert.deepEqual(a.Q, b.Q);
  assert.deepEqual(a.C, b.C);
  let moved = 0;
  const before = new PinSageCore({ dim: 8, layers: 2, topT: 3, scale: 0.1 });
  before.prepare({ ...a.init, rng: new Rng(1), optimizer: sgd({ lr: 0.5 }) }, "users");
  before.parameters().forEach((p0, k) => {
    for (let i = 0; i < p0.length; i++) {
      assert.ok(Math.abs(a.params[k][i] - b.params[k][i]) < 1e-6, `parameter ${k}[${i}]`);
      moved = Math.max(moved, Math.abs(a.params[k][i] - p0[i]));
    }
  });
  assert.ok(moved > 1e-3, "the step changed the parameters");
});

test("producer/consumer: a GraphSAGE fit is identical with sampler workers or inline", async () => {
  const { plantedClusters } = await import("./fixtures.ts");
  const { GraphSage } = await import("../models/pinsage.ts");
  const P = plantedClusters(2, 60, 40, 4, 6);
  const fit = async (samplerWorkers: number) => {
    const o = { dim: 8, layers: 2, epochs: 2, batchSize: 64, nGlobal: 16, fanout: 3, seed: 5 };
    const m = new GraphSage({ ...o, samplerWorkers });
    await m.fit(P.data);
    return m.embeddings();
  };
  const a = await fit(0);
  const b = await fit(1);
  assert.deepEqual(b.items, a.items);
  assert.deepEqual(b.users, a.users);
});
