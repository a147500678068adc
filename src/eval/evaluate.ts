/**
 * The evaluation protocol (DESIGN §5): full ranking over all items with each user's training
 * items masked, metrics at every cut-off from one top-maxK list per user (metrics.ts).
 *
 * - `evaluate(model, …)`: factor models (`model.embeddings`) take the blocked-matmul fast path;
 *   any other Recommender is asked for `recommend(batch, maxK, { exclude: train })` in batches.
 * - `evaluateEmbeddings(emb, …)`: exact scores U·Vᵀ in blocks over worker threads (wasm SIMD
 *   kernel, JS fallback), bounded top-K per user behind a SIMD threshold filter (score.ts).
 *   Factors, the training CSR and the output rows are SharedArrayBuffers, so nothing is copied
 *   per worker.
 */
import type { Worker } from "node:worker_threads";
import { assert } from "../errors.ts";
import type { Csr } from "../math/csr.ts";
import { GEMM_MR, wasmSimdSupported } from "../math/gemm-wasm.ts";
import type { Embeddings, Recommender } from "../recommender.ts";
import { defaultWorkers, startWorker, workerUrl } from "../workers.ts";
import { checkSplit, type EvalReport, MetricAccumulator, normalizeKs } from "./metrics.ts";

export type { EvalReport } from "./metrics.ts";
export { evaluateTopK } from "./metrics.ts";

import { CTL_DONE, type ScoreJob, type ScoreKernel, scoreBlocks } from "./score.ts";

export interface EvalOptions {
  /** Cut-offs; default [20, 100]. All are computed from one top-max(ks) list. */
  ks?: readonly number[];
  /** Worker threads for the embedding path; 0 runs in-process. Default: `defaultWorkers()` (cores). */
  workers?: number;
  /**
   * Users per unit of work: per `recommend` call on the recommender path (default 1024), per
   * scoring block on the embedding path (default 64, rounded up to a multiple of 4, at most 1024).
   */
  batchSize?: number;
  /** Users to evaluate; default all users with ≥ 1 test item. Users without test items are skipped. */
  users?: Int32Array;
  /** Called with (users done, users total) after batches, and at the end. */
  onProgress?: (done: number, total: number) => void;
}

/** Users to evaluate: `users` (validated) or all, keeping only those with ≥ 1 test item. */
function evalUsers(test: Csr, users: Int32Array | undefined): Int32Array {
  const off = test.offsets;
  if (users === undefined) {
    let n = 0;
    for (let u = 0; u < test.nRows; u++) if (off[u + 1] > off[u]) n++;
    const out = new Int32Array(n);
    n = 0;
    for (let u = 0; u < test.nRows; u++) if (off[u + 1] > off[u]) out[n++] = u;
    return out;
  }
  const keep: number[] = [];
  for (let i = 0; i < users.length; i++) {
    const u = users[i];
    assert(
      Number.isInteger(u) && u >= 0 && u < test.nRows,
      () => `users[${i}] = ${u} is outside [0, ${test.nRows})`,
    );
    if (off[u + 1] > off[u]) keep.push(u);
  }
  return Int32Array.from(keep);
}

/** Scoring kernel: wasm SIMD when available; RECALLKIT_GEMM=js forces the JS gemmNT fallback. */
export function scoreKernel(): ScoreKernel {
  return process.env.RECALLKIT_GEMM !== "js" && wasmSimdSupported() ? "wasm" : "js";
}

/** `evaluate` for any Recommender; factor models take the embedding fast path. */
export async function evaluate(
  model: Recommender,
  train: Csr,
  test: Csr,
  opts: EvalOptions = {},
): Promise<EvalReport> {
  if (typeof model.embeddings === "function")
    return evaluateEmbeddings(model.embeddings(), train, test, opts);
  const t0 = performance.now();
  const acc = new MetricAccumulator(normalizeKs(opts.ks), train, test);
  const users = evalUsers(test, opts.users);
  const bs = opts.batchSize ?? 1024;
  assert(Number.isInteger(bs) && bs > 0, () => `batchSize is ${bs}; expected a positive integer`);
  const exclude = { exclude: train };
  for (let b = 0; b < users.length; b += bs) {
    const batch = users.slice(b, Math.min(users.length, b + bs));
    const lists = await model.recommend(batch, acc.maxK, exclude);
    assert(
      lists.n === batch.length,
      () =>
        `${model.kind}.recommend returned ${lists.n} rows for ${batch.length} users; expected one row per user`,
    );
    for (let i = 0; i < batch.length; i++)
      acc.add(batch[i], lists.ids, i * lists.k, Math.min(lists.counts[i], lists.k));
    opts.onProgress?.(b + batch.length, users.length);
  }
  if (users.length === 0) opts.onProgress?.(0, 0);
  return acc.report((performance.now() - t0) / 1000);
}

/** A SharedArrayBuffer-backed copy of `a`, or `a` itself when it already is one. */
function shared<T extends Float32Array | Int32Array>(
  a: T,
  make: (sab: SharedArrayBuffer, n: number) => T,
): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = make(new SharedArrayBuffer(a.length * 4), a.length);
  out.set(a);
  return out;
}
const f32 = (s: SharedArrayBuffer, n: number) => new Float32Array(s, 0, n);
const i32 = (s: SharedArrayBuffer, n: number) => new Int32Array(s, 0, n);

/**
 * Exact full-ranking evaluation of dot-product factors (score = user·item): blocked U·Vᵀ over
 * `workers` threads, training items masked, one top-max(ks) list per user. Results do not depend
 * on `workers` or `batchSize`; they can differ from a float64 reference only where two items'
 * f32 scores tie or nearly tie.
 */
export async function evaluateEmbeddings(
  emb: Embeddings,
  train: Csr,
  test: Csr,
  opts: EvalOptions = {},
): Promise<EvalReport> {
  const t0 = performance.now();
  checkSplit(train, test);
  const { dim } = emb;
  const nUsers = train.nRows;
  const nItems = train.nCols;
  assert(
    Number.isInteger(dim) && dim >= 0,
    () => `embeddings.dim is ${dim}; expected a non-negative integer`,
  );
  assert(
    emb.users.length === nUsers * dim && emb.items.length === nItems * dim,
    () =>
      `embeddings hold ${emb.users.length / dim} users × ${emb.items.length / dim} items (dim ${dim}) but train is ` +
      `${nUsers}×${nItems}; factors must cover every user and item of the split`,
  );
  const acc = new MetricAccumulator(normalizeKs(opts.ks), train, test);
  const users = evalUsers(test, opts.users);
  const k = acc.maxK;
  const bs = opts.batchSize ?? 64;
  assert(Number.isInteger(bs) && bs > 0, () => `batchSize is ${bs}; expected a positive integer`);
  // Rounded up to the kernel's 4-row tile; capped so a block's scores stay a few MiB.
  const blockUsers = Math.min(1024, Math.ceil(bs / GEMM_MR) * GEMM_MR);
  const nBlocks = Math.ceil(users.length / blockUsers);
  let nWorkers = opts.workers ?? defaultWorkers();
  assert(
    Number.isInteger(nWorkers) && nWorkers >= 0,
    () => `workers is ${nWorkers}; expected an integer ≥ 0`,
  );
  nWorkers = Math.min(nWorkers, nBlocks);

  const n = users.length;
  const total = n;
  const onProgress = opts.onProgress;
  const useShared = nWorkers > 0;
  const mk = <T extends Float32Array | Int32Array>(a: T, make: (s: SharedArrayBuffer, n: number) => T): T =>
    useShared ? shared(a, make) : a;
  const job: ScoreJob = {
    dim,
    nItems,
    k,
    blockUsers,
    kernel: scoreKernel(),
    userFactors: mk(emb.users, f32),
    itemFactors: mk(emb.items, f32),
    users: mk(users, i32),
    trainOffsets: mk(train.offsets, i32),
    trainIndices: mk(train.indices, i32),
    outIds: useShared ? i32(new SharedArrayBuffer(n * k * 4), n * k) : new Int32Array(n * k),
    outScores: useShared ? f32(new SharedArrayBuffer(n * k * 4), n * k) : new Float32Array(n * k),
    outCounts: useShared ? i32(new SharedArrayBuffer(n * 4), n) : new Int32Array(n),
    ctl: useShared ? i32(new SharedArrayBuffer(8), 2) : new Int32Array(2),
  };

  if (nWorkers === 0) {
    scoreBlocks(job, onProgress === undefined ? null : (done) => onProgress(done, total));
  } else {
    const timer =
      onProgress === undefined
        ? null
        : setInterval(() => onProgress(Atomics.load(job.ctl, CTL_DONE), total), 250);
    try {
      await runScoreWorkers(nWorkers, job);
    } finally {
      if (timer !== null) clearInterval(timer);
    }
    onProgress?.(total, total);
  }
  if (n === 0) onProgress?.(0, 0);

  for (let i = 0; i < n; i++) acc.add(users[i], job.outIds, i * k, job.outCounts[i]);
  return acc.report((performance.now() - t0) / 1000);
}

/** Runs `n` score workers on one shared job; resolves when all have posted, rejects on the first failure. */
async function runScoreWorkers(n: number, job: ScoreJob): Promise<void> {
  const url = workerUrl("./score.worker", import.meta.url);
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const w = startWorker(url, job);
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.once("message", () => resolve());
          w.once("error", reject);
          w.once("exit", (code) => {
            if (code !== 0) reject(new Error(`score worker ${i} exited with code ${code}`));
          });
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
