// Hogwild worker for FM recall: runs the fused FM pairwise kernel (fm-kernel.ts) on its slice of
// each epoch over the shared tables (races as in hogwild.ts). workerData: FmHogwildInit.
// Messages in: FmHogwildEpoch; out: { loss }.
import { parentPort, workerData } from "node:worker_threads";
import type { Loss } from "../losses/types.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { FmScratch, fmPairwiseSgdRange } from "./fm-kernel.ts";
import type { FmHogwildEpoch, FmHogwildInit } from "./fm-train.ts";

const init = workerData as FmHogwildInit;
const mod = (await import(init.loss.url)) as Record<string, (o: unknown) => Loss>;
const pw = mod[init.loss.factory](init.loss.options).pairwise;
if (pw === null) throw new Error(`fm worker: loss ${init.loss.factory} has no pairwise form`);
const alias = new AliasTable(init.prob);
const sc = new FmScratch(init.d);
const port = parentPort;
if (port === null) throw new Error("fm.worker must run as a worker thread");
port.on("message", (job: FmHogwildEpoch) => {
  const loss = fmPairwiseSgdRange(
    init.user,
    init.item,
    init.d,
    job.lr,
    init.l2,
    init.negPerRow,
    alias,
    pw,
    job.q,
    job.t,
    job.from,
    job.to,
    new Rng(job.seed),
    sc,
    init.drop,
    init.logQ,
  );
  port.postMessage({ loss });
});
port.postMessage({ ready: true });
