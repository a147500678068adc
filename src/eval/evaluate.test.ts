import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecallkitError } from "../errors.ts";
import { buildCsr, type Csr } from "../math/csr.ts";
import { Rng } from "../math/rng.ts";
import { TopK } from "../math/topk.ts";
import type { Embeddings, Recommender, RecommendOptions } from "../recommender.ts";
import { type EvalReport, evaluate, evaluateEmbeddings } from "./evaluate.ts";
import { referenceMetrics, referenceRanking } from "./metrics.reference.ts";

/**
 * A small random problem: integer factors in {−2..2} make every score an exact small integer in
 * f32 as in f64 (so the wasm kernel, the JS kernel and the reference agree bit for bit) and
 * produce many ties, which exercises the smaller-id tie break. Users 0 and 1 have no test items;
 * user 2 has all but 4 items in training (k above the number of unmasked items).
 */
function problem(seed: number, nUsers: number, nItems: number, dim: number) {
  const rng = new Rng(seed);
  const users = new Float32Array(nUsers * dim);
  const items = new Float32Array(nItems * dim);
  for (let i = 0; i < users.length; i++) users[i] = rng.int(5) - 2;
  for (let i = 0; i < items.length; i++) items[i] = rng.int(5) - 2;
  const tr: [number[], number[]] = [[], []];
  const te: [number[], number[]] = [[], []];
  for (let u = 0; u < nUsers; u++)
    for (let i = 0; i < nItems; i++) {
      const x = rng.next();
      const inTrain = u === 2 ? i >= 4 : x < 0.15;
      if (inTrain) {
        tr[0].push(u);
        tr[1].push(i);
      } else if (u > 1 && (x > 0.9 || (u === 2 && i === 1))) {
        te[0].push(u);
        te[1].push(i);
      }
    }
  const csr = (c: [number[], number[]]): Csr =>
    buildCsr(nUsers, nItems, Int32Array.from(c[0]), Int32Array.from(c[1]), null, "one");
  const emb: Embeddings = { dim, users, items };
  const score = (u: number, i: number) => {
    let s = 0;
    for (let p = 0; p < dim; p++) s += users[u * dim + p] * items[i * dim + p];
    return s;
  };
  return { emb, train: csr(tr), test: csr(te), score };
}

/** A Recommender without embeddings: brute-force full sort, honouring `exclude`. */
function bruteForceModel(
  score: (u: number, i: number) => number,
  nItems: number,
  emb?: Embeddings,
): Recommender & {
  calls: number;
} {
  const empty = buildCsr(1, nItems, new Int32Array(0), new Int32Array(0), null, "one");
  const model = {
    kind: "brute-force",
    calls: 0,
    async fit() {
      return model;
    },
    recommend(users: Int32Array, k: number, opts?: RecommendOptions): TopK {
      model.calls++;
      const out = new TopK(users.length, k);
      users.forEach((u, row) => {
        const ex = opts?.exclude ?? null;
        const list = referenceRanking(score, u, ex === null ? empty : ex).slice(0, k);
        out.ids.set(list, row * k);
        out.counts[row] = list.length;
      });
      return out;
    },
    params: () => ({}),
    async save() {},
    ...(emb === undefined ? {} : { embeddings: () => emb }),
  };
  return model as unknown as Recommender & { calls: number };
}

function assertMatchesReference(
  report: EvalReport,
  ref: { users: number; metrics: Record<string, number> },
): void {
  assert.equal(report.users, ref.users);
  assert.deepEqual(Object.keys(report.metrics).sort(), Object.keys(ref.metrics).sort());
  for (const key of Object.keys(ref.metrics)) {
    const got = report.metrics[key];
    const want = ref.metrics[key];
    assert.ok(Math.abs(got - want) < 1e-9, `${key}: ${got} vs reference ${want}`);
  }
}

describe("evaluate", () => {
  const nUsers = 37;
  const nItems = 53;
  const ks = [3, 10, 60]; // 60 > nItems: every list is shorter than K
  const { emb, train, test, score } = problem(5, nUsers, nItems, 5);
  const all = Int32Array.from({ length: nUsers }, (_, u) => u);
  const ref = referenceMetrics((u) => referenceRanking(score, u, train), all, train, test, ks);

  it("the fixture has skipped users and short lists", () => {
    assert.equal(
      ref.users,
      nUsers -
        2 -
        [...Array(nUsers).keys()].filter((u) => u > 1 && test.offsets[u + 1] === test.offsets[u]).length,
    );
    assert.equal(referenceRanking(score, 2, train).length, 4);
  });

  it("recommender path (batches that do not divide evenly) matches the brute-force reference", async () => {
    const model = bruteForceModel(score, nItems);
    const progress: number[] = [];
    const report = await evaluate(model, train, test, {
      ks,
      batchSize: 7,
      onProgress: (d) => progress.push(d),
    });
    assertMatchesReference(report, ref);
    assert.equal(model.calls, Math.ceil(ref.users / 7));
    assert.equal(progress[progress.length - 1], ref.users);
  });

  it("embedding path matches the reference; workers 0/1/2 and both kernels give identical reports", async () => {
    const reports: EvalReport[] = [];
    for (const workers of [0, 1, 2])
      reports.push(await evaluateEmbeddings(emb, train, test, { ks, workers, batchSize: 8 }));
    const prev = process.env.RECALLKIT_GEMM;
    process.env.RECALLKIT_GEMM = "js";
    try {
      reports.push(await evaluateEmbeddings(emb, train, test, { ks, workers: 0, batchSize: 5 }));
    } finally {
      if (prev === undefined) delete process.env.RECALLKIT_GEMM;
      else process.env.RECALLKIT_GEMM = prev;
    }
    assertMatchesReference(reports[0], ref);
    for (const r of reports.slice(1)) {
      assert.deepEqual(r.metrics, reports[0].metrics);
      assert.equal(r.users, reports[0].users);
    }
  });

  it("evaluate takes the embedding fast path when the model has embeddings", async () => {
    const model = bruteForceModel(score, nItems, emb);
    const report = await evaluate(model, train, test, { ks, workers: 0 });
    assert.equal(model.calls, 0);
    assertMatchesReference(report, ref);
  });

  it("evaluates only the given users, skipping those without test items", async () => {
    const users = Int32Array.of(0, 1, 2, 5, 9); // 0 and 1 have no test items
    const sub = referenceMetrics((u) => referenceRanking(score, u, train), users, train, test, ks);
    const progress: Array<[number, number]> = [];
    const r = await evaluateEmbeddings(emb, train, test, {
      ks,
      users,
      workers: 0,
      onProgress: (d, t) => progress.push([d, t]),
    });
    assertMatchesReference(r, sub);
    assert.equal(
      r.users,
      users.length - 2 - [5, 9].filter((u) => test.offsets[u + 1] === test.offsets[u]).length,
    );
    assert.deepEqual(progress[progress.length - 1], [r.users, r.users]);
    const viaModel = await evaluate(bruteForceModel(score, nItems), train, test, { ks, users });
    assertMatchesReference(viaModel, sub);
  });

  it("larger random problem with many blocks and dim 17 agrees with the reference", async () => {
    const p = problem(9, 150, 301, 17);
    const users = Int32Array.from({ length: 150 }, (_, u) => u);
    const want = referenceMetrics(
      (u) => referenceRanking(p.score, u, p.train),
      users,
      p.train,
      p.test,
      [20, 100],
    );
    const got = await evaluateEmbeddings(p.emb, p.train, p.test, { workers: 2, batchSize: 12 });
    assertMatchesReference(got, want);
  });

  it("rejects mismatched shapes with RK_ERR_INVALID_ARGUMENT", async () => {
    const bad = { dim: 5, users: emb.users, items: emb.items.subarray(5) };
    await assert.rejects(
      evaluateEmbeddings(bad, train, test),
      (e: unknown) => e instanceof RecallkitError && e.code === "RK_ERR_INVALID_ARGUMENT",
    );
    await assert.rejects(
      evaluateEmbeddings(emb, train, test, { users: Int32Array.of(nUsers) }),
      (e: unknown) => e instanceof RecallkitError && e.code === "RK_ERR_INVALID_ARGUMENT",
    );
  });
});
