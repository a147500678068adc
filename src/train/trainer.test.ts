import assert from "node:assert/strict";
import { test } from "node:test";
import * as encoders from "../encoders/index.ts";
import * as losses from "../losses/index.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import { plantedClusters } from "./fixtures.ts";
import { adam, sgd } from "./optimizers/index.ts";
import type { Recipe } from "./recipe.ts";
import { dropZeroRows, train } from "./trainer.ts";

const { data } = plantedClusters(1);
const t = losses.transforms;

const softmaxRecipe = (): Recipe => ({
  positives: positives.userItem(),
  negatives: negatives.mixed({
    global: negatives.popularity({ power: 0.75, count: 32, shared: true }),
    nGlobal: 32,
  }),
  query: encoders.idTable({ dim: 8 }),
  item: encoders.idTable({ dim: 8 }),
  loss: losses.softmax({ transforms: [t.temperature(0.2), t.logQ(), t.accidentalHits()] }),
  score: "cosine",
});
const bprRecipe = (): Recipe => ({
  positives: positives.userItem(),
  negatives: negatives.uniform({ count: 1 }),
  query: encoders.idTable({ dim: 8 }),
  item: encoders.idTable({ dim: 8 }),
  loss: losses.bpr({ reduction: "sum" }),
  score: "dot",
});

const bytes = (r: Recipe) =>
  [...r.query.parameters(), ...r.item.parameters()].map((p) =>
    Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString("base64"),
  );

test("workers: 0 is deterministic: fit twice → identical bytes (generic and fused paths)", async () => {
  for (const make of [softmaxRecipe, bprRecipe]) {
    const a = make();
    const b = make();
    const opt = () => (make === bprRecipe ? sgd({ lr: 0.05 }) : adam({ lr: 0.01 }));
    const ra = await train(a, data, { epochs: 2, batchSize: 64, seed: 3, optimizer: opt() });
    await train(b, data, { epochs: 2, batchSize: 64, seed: 3, optimizer: opt() });
    assert.equal(ra.report.path, make === bprRecipe ? "fused-pairwise-sgd" : "generic");
    assert.deepEqual(bytes(a), bytes(b));
  }
});

test("the fused BPR kernel equals the generic loop at batchSize 1", async () => {
  const a = bprRecipe();
  // generic twin: masking the accidental hit (t⁻ = t⁺) as the fused kernel skips it
  const b: Recipe = {
    ...bprRecipe(),
    loss: losses.bpr({ reduction: "sum", transforms: [t.accidentalHits()] }),
  };
  const ra = await train(a, data, {
    epochs: 1,
    batchSize: 1,
    seed: 5,
    optimizer: sgd({ lr: 0.1, l2: 0.01 }),
  });
  const rb = await train(b, data, {
    epochs: 1,
    batchSize: 1,
    seed: 5,
    optimizer: sgd({ lr: 0.1, l2: 0.01 }),
  });
  assert.equal(ra.report.path, "fused-pairwise-sgd");
  assert.equal(rb.report.path, "generic");
  // same draws in the same order; they differ by f32 rounding of intermediate gradients and by the
  // L2 step the generic loop still gives a masked negative's row
  const pa = [...a.query.parameters(), ...a.item.parameters()];
  const pb = [...b.query.parameters(), ...b.item.parameters()];
  let maxDiff = 0;
  pa.forEach((p, k) => {
    p.forEach((x, e) => {
      maxDiff = Math.max(maxDiff, Math.abs(x - pb[k][e]));
    });
  });
  assert.ok(maxDiff < 1e-3, `max parameter difference ${maxDiff}`);
  assert.ok(Math.abs(ra.report.history[0].loss - rb.report.history[0].loss) < 1e-3);
});

test("training lowers the loss (generic softmax path, fused BPR path, Hogwild with 2 workers)", async () => {
  const r1 = await train(softmaxRecipe(), data, { epochs: 8, batchSize: 64, optimizer: adam({ lr: 0.02 }) });
  const h1 = r1.report.history;
  assert.ok(
    h1[h1.length - 1].loss < h1[0].loss * 0.9,
    `softmax loss ${h1[0].loss} → ${h1[h1.length - 1].loss}`,
  );
  const r2 = await train(bprRecipe(), data, { epochs: 8, optimizer: sgd({ lr: 0.3 }), workers: 2 });
  assert.equal(r2.report.workers, 2);
  const h2 = r2.report.history;
  assert.ok(h2[h2.length - 1].loss < h2[0].loss * 0.9, `bpr loss ${h2[0].loss} → ${h2[h2.length - 1].loss}`);
});

test("early stopping: stops after `patience` epochs without improvement and restores the best epoch", async () => {
  const metrics = [0.1, 0.3, 0.2, 0.25, 0.9];
  let best: Float32Array | null = null;
  const r = softmaxRecipe();
  const out = await train(r, data, {
    epochs: 5,
    batchSize: 64,
    optimizer: adam({ lr: 0.01 }),
    patience: 2,
    onEpoch: (e) => {
      if (e.epoch === 2) best = e.vectors().items;
      return metrics[e.epoch - 1];
    },
  });
  assert.equal(out.report.history.length, 4);
  assert.equal(out.report.bestEpoch, 2);
  const items = r.item.exportAll();
  const b = best as unknown as Float32Array;
  // restored vectors, normalised as served, equal the best epoch's
  for (let i = 0; i < 5; i++) {
    let n = 0;
    for (let j = 0; j < 8; j++) n += items[i * 8 + j] ** 2;
    for (let j = 0; j < 8; j++) assert.ok(Math.abs(items[i * 8 + j] / Math.sqrt(n) - b[i * 8 + j]) < 1e-6);
  }
});

test("every layout trains: per-row negatives, shared without in-batch, in-batch only; dot and cosine", async () => {
  const layouts = [
    negatives.popularity({ count: 3 }),
    negatives.logUniform({ count: 16, shared: true }),
    negatives.inBatch({ estimator: "streaming" }),
  ];
  for (const neg of layouts) {
    for (const score of ["dot", "cosine"] as const) {
      const r: Recipe = { ...softmaxRecipe(), negatives: neg, score };
      const out = await train(r, data, { epochs: 3, batchSize: 50, optimizer: adam({ lr: 0.02 }) });
      for (const h of out.report.history)
        assert.ok(Number.isFinite(h.loss), `${neg.name}/${score}: loss ${h.loss}`);
    }
  }
});

test("logQ sign: with Q skewed and P flat, −log Q removes the sampler's popularity bias from the scores", async () => {
  // Every user likes every item equally (complete bipartite log), so the true P(t|u) is flat.
  // Negatives come from a log-uniform sampler, which draws low ids far more often (skewed Q).
  // Without correction sampled softmax learns s(u,t) ≈ log P(t|u) − log Q(t) + c: items the
  // sampler favours are pushed down, a bias tied to Q. With G = s − log Q (5-11) it learns
  // s ≈ log P(t|u) + c, flat. So corr(mean score of t, log Q(t)) must be strongly negative
  // without the transform and near zero with it.
  const nU = 40;
  const nI = 30;
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < nU; u++) {
    for (let i = 0; i < nI; i++) {
      users.push(u);
      items.push(i);
    }
  }
  const flat = plantedClusters(1, nU, nI, 1, 1).data;
  const data = {
    ...flat,
    train: {
      ...flat.train,
      length: users.length,
      users: Int32Array.from(users),
      items: Int32Array.from(items),
    },
  };
  const corr = async (withLogQ: boolean) => {
    const r: Recipe = {
      positives: positives.userItem(),
      negatives: negatives.logUniform({ count: 16, shared: true }),
      query: encoders.idTable({ dim: 8 }),
      item: encoders.idTable({ dim: 8 }),
      loss: losses.softmax({ transforms: withLogQ ? [t.logQ()] : [] }),
      score: "dot",
    };
    await train(r, data, { epochs: 30, batchSize: 60, optimizer: adam({ lr: 0.02 }), seed: 4 });
    const U = r.query.exportAll();
    const V = r.item.exportAll();
    const lq = new Float32Array(nI);
    r.negatives.logQInto(
      Int32Array.from({ length: nI }, (_, i) => i),
      nI,
      lq,
      0,
    );
    const mean = new Float64Array(nI);
    for (let i = 0; i < nI; i++)
      for (let u = 0; u < nU; u++) for (let j = 0; j < 8; j++) mean[i] += (U[u * 8 + j] * V[i * 8 + j]) / nU;
    const mx = mean.reduce((a, b) => a + b) / nI;
    const my = lq.reduce((a, b) => a + b) / nI;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < nI; i++) {
      sxy += (mean[i] - mx) * (lq[i] - my);
      sxx += (mean[i] - mx) ** 2;
      syy += (lq[i] - my) ** 2;
    }
    return sxy / Math.sqrt(sxx * syy);
  };
  const without = await corr(false);
  const withQ = await corr(true);
  assert.ok(without < -0.8, `without logQ: corr(score, log Q) = ${without}`);
  assert.ok(
    Math.abs(withQ) < 0.5 && Math.abs(withQ) < Math.abs(without) / 2,
    `with logQ: corr = ${withQ} (without: ${without})`,
  );
});

test("dropZeroRows keeps exactly the rows with a non-zero gradient, in order", () => {
  const dim = 3;
  const ids = Int32Array.of(10, 11, 12, 13, 14);
  const g = Float32Array.of(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, -2, 0, 0, 0);
  const kept = dropZeroRows(ids, g, 5, dim);
  assert.equal(kept, 2);
  assert.deepEqual([...ids.subarray(0, kept)], [11, 13]);
  assert.deepEqual([...g.subarray(0, kept * dim)], [1, 0, 0, 0, 0, -2]);
});

test("lrMilestones × lrGamma and lrDecay set the learning rate epoch by epoch", async () => {
  const opt = sgd({ lr: 1 });
  const seen: number[] = [];
  await train(bprRecipe(), data, {
    epochs: 4,
    optimizer: opt,
    lrDecay: 0.5,
    lrMilestones: [2],
    lrGamma: 0.1,
    onEpoch: () => {
      seen.push(opt.sgd?.lr ?? Number.NaN);
      return undefined;
    },
  });
  // after epoch e: 0.5^e, and ×0.1 from epoch 2 on
  const want = [0.5, 0.025, 0.0125, 0.00625];
  assert.equal(seen.length, want.length);
  for (const [k, lr] of seen.entries())
    assert.ok(Math.abs(lr - want[k]) < 1e-12, `epoch ${k + 1}: lr ${lr}, want ${want[k]}`);
  await assert.rejects(
    () => train(bprRecipe(), data, { epochs: 1, lrMilestones: [0] }),
    /lrMilestones must be epochs/,
  );
  await assert.rejects(() => train(bprRecipe(), data, { epochs: 1, lrGamma: 2 }), /lrGamma must be in/);
});
