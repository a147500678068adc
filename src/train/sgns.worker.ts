// SGNS Hogwild worker: runs sgnsRange on its slice of each epoch's shuffled sequence order,
// reading and writing the shared syn0/syn1 tables without locks (races: see hogwild.ts and
// sgns-train.ts). workerData: SgnsWorkerInit. Messages in: SgnsJob; out: { effective }.
import { parentPort, workerData } from "node:worker_threads";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { SgnsScratch, sgnsRange } from "./sgns.ts";
import type { SgnsJob, SgnsWorkerInit } from "./sgns-train.ts";

const init = workerData as SgnsWorkerInit;
const alias = new AliasTable(init.negWeights);
const sc = new SgnsScratch(
  init.maxLen,
  init.config.dim,
  1 + init.config.negative + init.config.nHard + init.config.nMarket,
);
const port = parentPort;
if (port === null) throw new Error("sgns.worker must run as a worker thread");
port.on("message", (job: SgnsJob) => {
  const rng = new Rng(job.seed);
  const effective = sgnsRange(
    init.syn0,
    init.syn1,
    init.corpus,
    init.config,
    alias,
    init.order,
    job.from,
    job.to,
    job.epoch,
    job.sliceWords,
    rng,
    sc,
  );
  port.postMessage({ effective });
});
port.postMessage({ ready: true });
