// Hogwild worker: runs the fused pairwise kernel on its slice of each epoch (see hogwild.ts for
// the races it accepts and the choice of kernel). workerData: HogwildWorkerInit. Messages in:
// HogwildJob; out: { loss }.
// - init.wasm set: the WASM SIMD BPR kernel on slot job.slot of the shared WebAssembly.Memory,
//   fed by pairwiseSgdBlocks (triples drawn here in JS, in the JS kernel's order);
// - else pairwiseSgdRange (JS) directly on the SharedArrayBuffer tables U and V.
import { parentPort, workerData } from "node:worker_threads";
import type { Loss } from "../losses/types.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { WasmBprKernel } from "./bpr-wasm.ts";
import { pairwiseSgdBlocks, pairwiseSgdRange } from "./fused-pairwise.ts";
import type { HogwildJob, HogwildWorkerInit } from "./hogwild.ts";

const init = workerData as HogwildWorkerInit;
const mod = (await import(init.loss.url)) as Record<string, (o: unknown) => Loss>;
const loss = mod[init.loss.factory](init.loss.options);
const pw = loss.pairwise;
if (pw === null) throw new Error(`hogwild worker: loss ${init.loss.factory} has no pairwise form`);
const alias = new AliasTable(init.prob);
const lg = new Float64Array(2);
const port = parentPort;
if (port === null) throw new Error("hogwild.worker must run as a worker thread");
// one kernel per slot (the WASM memory has one triple buffer per worker)
const kernels = new Map<number, WasmBprKernel>();
const wasmKernel = (slot: number): WasmBprKernel | null => {
  if (init.wasm === null) return null;
  let k = kernels.get(slot);
  if (k === undefined) {
    k = new WasmBprKernel(init.wasm, slot);
    kernels.set(slot, k);
  }
  return k;
};
port.on("message", (job: HogwildJob) => {
  const rng = new Rng(job.seed);
  const k = wasmKernel(job.slot);
  const loss =
    k !== null
      ? pairwiseSgdBlocks(k, job.lr, init.l2, init.negPerRow, alias, job.q, job.t, job.from, job.to, rng)
      : pairwiseSgdRange(
          init.U,
          init.V,
          init.dim,
          job.lr,
          init.l2,
          init.negPerRow,
          alias,
          pw,
          job.q,
          job.t,
          job.from,
          job.to,
          rng,
          lg,
        );
  port.postMessage({ loss });
});
port.postMessage({ ready: true });
