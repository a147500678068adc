// Word2vec-family Hogwild worker, reading and writing the shared tables without locks (races: see
// hogwild.ts and sgns-train.ts). Two modes, by workerData:
// - SgnsWorkerInit: sgnsRange on its slice of each epoch's shuffled sequence order, through the
//   WASM kernel on its slot of the shared memory (or the JS kernel). Jobs: SgnsJob; out: { effective }.
// - EgesWorkerInit (kind "eges"): egesRange on its slice of the walks. Jobs: EgesJob; out: {}.
import { parentPort, workerData } from "node:worker_threads";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { type EgesJob, EgesScratch, type EgesWorkerInit, egesRange } from "./eges.ts";
import { JsPairKernel, type PairKernel, SgnsScratch, sgnsRange } from "./sgns.ts";
import type { SgnsJob, SgnsWorkerInit } from "./sgns-train.ts";
import { sgnsTables, WasmPairKernel } from "./sgns-wasm.ts";

const port = parentPort;
if (port === null) throw new Error("sgns.worker must run as a worker thread");
const data = workerData as SgnsWorkerInit | EgesWorkerInit;

if ("kind" in data && data.kind === "eges") {
  const init = data;
  const alias = new AliasTable(init.negWeights);
  const sc = new EgesScratch(init.t.nFields, init.t.dim);
  port.on("message", (job: EgesJob) => {
    egesRange(
      init.t,
      init.cfg,
      alias,
      init.offsets,
      init.tokens,
      init.order,
      job.epoch,
      new Rng(job.seed),
      sc,
      job.from,
      job.to,
      job.sliceWords,
    );
    port.postMessage({});
  });
} else {
  const init = data as SgnsWorkerInit;
  const alias = new AliasTable(init.negWeights);
  const sc = new SgnsScratch(
    init.maxLen,
    init.config.dim,
    1 + init.config.negative + init.config.nHard + init.config.nMarket,
  );
  const tables = init.wasm === null ? null : sgnsTables(init.wasm);
  const syn0 = tables?.syn0 ?? (init.syn0 as Float32Array);
  const syn1 = tables?.syn1 ?? (init.syn1 as Float32Array);
  const gensim = init.config.style === "gensim";
  // one kernel per slot (the WASM memory has one scratch slot per worker)
  const kernels = new Map<number, PairKernel>();
  const kernelFor = (slot: number): PairKernel => {
    let k = kernels.get(slot);
    if (k === undefined) {
      k =
        init.wasm === null
          ? new JsPairKernel(syn0, syn1, init.config.dim, undefined, gensim)
          : new WasmPairKernel(init.wasm, slot, gensim);
      kernels.set(slot, k);
    }
    return k;
  };
  port.on("message", (job: SgnsJob) => {
    const effective = sgnsRange(
      syn0,
      syn1,
      init.corpus,
      init.config,
      alias,
      init.order,
      job.from,
      job.to,
      job.epoch,
      job.sliceWords,
      new Rng(job.seed),
      sc,
      kernelFor(job.slot),
    );
    port.postMessage({ effective });
  });
}
port.postMessage({ ready: true });
