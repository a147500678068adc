/**
 * eval-speed: the embedding fast path of evaluation (full ranking, training items masked, top-100
 * heap per user) with seeded random 64-dim factors on Gowalla's shape: 29,858 users × 40,981
 * items = 2·nU·nI·dim ≈ 157 GFLOP. Uses the real LightGCN train/test split when
 * `<dataDir>/gowalla/{train,test}.txt` exist, else a synthetic split of the same shape and size.
 *
 * Args: --dim 64  --workers <n> (default: cores)  --kernel wasm|js (default: wasm when supported)
 *       --users <n> (evaluate only the first n test users, for quick runs)
 *       --kernels (also emit a single-thread kernel micro-benchmark: JS gemmNT vs wasm gemm4x8
 *       on 64 users × 2048 items blocks, the shape the evaluator uses)
 */
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { evaluateEmbeddings } from "../../src/eval/index.ts";
import { gemmNT } from "../../src/math/blas.ts";
import { buildCsr, type Csr } from "../../src/math/csr.ts";
import { createWasmGemm, packPanelsInto } from "../../src/math/gemm-wasm.ts";
import { Rng } from "../../src/math/rng.ts";
import { defaultWorkers } from "../../src/workers.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB } from "../util.ts";

const GOWALLA = { nUsers: 29858, nItems: 40981, nTrain: 810128, nTest: 217242 };

/** `user item item …` per line (LightGCN format) → COO arrays. */
function readAdjacency(file: string): {
  users: Int32Array;
  items: Int32Array;
  maxUser: number;
  maxItem: number;
} {
  const us: number[] = [];
  const is: number[] = [];
  let maxUser = -1;
  let maxItem = -1;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || f[0] === "") continue;
    const u = Number(f[0]);
    if (u > maxUser) maxUser = u;
    for (let j = 1; j < f.length; j++) {
      const it = Number(f[j]);
      us.push(u);
      is.push(it);
      if (it > maxItem) maxItem = it;
    }
  }
  return { users: Int32Array.from(us), items: Int32Array.from(is), maxUser, maxItem };
}

function loadSplit(dataDir: string | undefined): { name: string; train: Csr; test: Csr } {
  const dir = dataDir === undefined ? undefined : join(dataDir, "gowalla");
  if (dir !== undefined && existsSync(join(dir, "train.txt")) && existsSync(join(dir, "test.txt"))) {
    const tr = readAdjacency(join(dir, "train.txt"));
    const te = readAdjacency(join(dir, "test.txt"));
    const nU = Math.max(tr.maxUser, te.maxUser) + 1;
    const nI = Math.max(tr.maxItem, te.maxItem) + 1;
    return {
      name: "gowalla",
      train: buildCsr(nU, nI, tr.users, tr.items, null, "one"),
      test: buildCsr(nU, nI, te.users, te.items, null, "one"),
    };
  }
  // Synthetic split with Gowalla's shape: uniform random (user, item) pairs.
  const rng = new Rng(2020);
  const { nUsers, nItems, nTrain, nTest } = GOWALLA;
  const coo = (n: number) => {
    const u = new Int32Array(n);
    const i = new Int32Array(n);
    for (let e = 0; e < n; e++) {
      u[e] = rng.int(nUsers);
      i[e] = rng.int(nItems);
    }
    return buildCsr(nUsers, nItems, u, i, null, "one");
  };
  return { name: "synthetic-gowalla-shape", train: coo(nTrain), test: coo(nTest) };
}

/** GFLOP per CPU-second (and per wall-second) of fn over `flop` flops, best of `reps`. */
function measure(flop: number, reps: number, fn: () => void): { cpu: number; wall: number } {
  let cpu = 0;
  let wall = 0;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    const c = process.cpuUsage(c0);
    cpu = Math.max(cpu, flop / 1e9 / ((c.user + c.system) / 1e6));
    wall = Math.max(wall, flop / 1e9 / ((performance.now() - t0) / 1000));
  }
  return { cpu, wall };
}

/** Single-thread GFLOP/s of the two score kernels on the evaluator's block shape. */
function kernelBench(ctx: BenchContext, dim: number): void {
  const mb = 64;
  const nc = 2048;
  const nI = 16 * nc;
  const rng = new Rng(1);
  const A = Float32Array.from({ length: mb * dim }, () => rng.normal());
  const B = Float32Array.from({ length: nI * dim }, () => rng.normal());
  const C = new Float32Array(mb * nc);
  const flop = 2 * mb * nI * dim;
  const js = measure(flop, 3, () => {
    for (let j0 = 0; j0 < nI; j0 += nc) gemmNT(A, 0, mb, B, j0, nc, dim, C, 0, nc);
  });
  const g = createWasmGemm();
  let wasm = { cpu: 0, wall: 0 };
  if (g !== null) {
    const bF = nI * dim;
    g.reserve((bF + mb * dim + mb * nc) * 4);
    packPanelsInto(B, null, 0, nI, dim, 8, g.f32, 0);
    packPanelsInto(A, null, 0, mb, dim, 4, g.f32, bF);
    const cPtr = (bF + mb * dim) * 4;
    wasm = measure(flop, 5, () => {
      for (let j0 = 0; j0 < nI; j0 += nc) g.gemm4x8(bF * 4, mb / 4, j0 * dim * 4, nc / 8, dim, cPtr, nc);
    });
  }
  ctx.emit({
    suite: "eval-speed",
    dataset: "kernel",
    model: `gemm-${dim}d`,
    params: { dim, block: `${mb}x${nc}`, threads: 1 },
    metrics: { jsGflopPerCpuSec: js.cpu, wasmGflopPerCpuSec: wasm.cpu, speedup: wasm.cpu / js.cpu },
    seconds: {},
    peakRssMB: peakRssMB(),
    extra: { jsGflopPerSec: js.wall, wasmGflopPerSec: wasm.wall, loadAvg1m: loadavg()[0] },
  });
}

export async function run(ctx: BenchContext): Promise<void> {
  const dim = Number(arg(ctx.args, "dim", "64"));
  const workers = Number(arg(ctx.args, "workers", String(defaultWorkers())));
  const kernel = arg(ctx.args, "kernel", "wasm");
  const usersLimit = Number(arg(ctx.args, "users", "0"));
  if (kernel === "js") process.env.RECALLKIT_GEMM = "js";
  if (ctx.args.includes("--kernels")) kernelBench(ctx, dim);
  const { name, train, test } = loadSplit(ctx.dataDir);
  const nU = train.nRows;
  const nI = train.nCols;
  ctx.log(`${name}: ${nU} users × ${nI} items, ${train.indices.length} train / ${test.indices.length} test`);

  const rng = new Rng(7);
  const users = new Float32Array(nU * dim);
  const items = new Float32Array(nI * dim);
  for (let i = 0; i < users.length; i++) users[i] = rng.normal() * 0.1;
  for (let i = 0; i < items.length; i++) items[i] = rng.normal() * 0.1;

  let evalUsers: Int32Array | undefined;
  if (usersLimit > 0) {
    const all: number[] = [];
    for (let u = 0; u < nU && all.length < usersLimit; u++)
      if (test.offsets[u + 1] > test.offsets[u]) all.push(u);
    evalUsers = Int32Array.from(all);
  }
  const cpu0 = process.cpuUsage();
  const report = await evaluateEmbeddings({ dim, users, items }, train, test, {
    ks: [20, 100],
    workers,
    ...(evalUsers === undefined ? {} : { users: evalUsers }),
    onProgress: (done, total) => {
      if (done === total) ctx.log(`${done}/${total} users`);
    },
  });
  const cpu = process.cpuUsage(cpu0);
  // CPU seconds of all threads: on a shared machine, wall time rises with other people's load
  // while CPU time mostly does not, so GFLOP per CPU-second is the steadier kernel figure.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const flop = 2 * report.users * nI * dim;
  ctx.emit({
    suite: "eval-speed",
    dataset: name,
    model: `random-${dim}d`,
    params: { dim, workers, kernel: process.env.RECALLKIT_GEMM === "js" ? "js" : kernel, ks: report.k },
    metrics: report.metrics,
    seconds: { eval: report.seconds },
    peakRssMB: peakRssMB(),
    extra: {
      users: report.users,
      items: nI,
      gflop: flop / 1e9,
      gflopPerSec: flop / 1e9 / report.seconds,
      usersPerSec: report.users / report.seconds,
      cpuSeconds,
      gflopPerCpuSec: flop / 1e9 / cpuSeconds,
      loadAvg1m: loadavg()[0],
    },
  });
}
