// Hogwild worker: runs the fused pairwise kernel on its slice of each epoch (see hogwild.ts for
// the races it accepts). workerData: HogwildInit. Messages in: HogwildEpoch; out: { loss }.
import { parentPort, workerData } from "node:worker_threads";
import type { Loss } from "../losses/types.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { pairwiseSgdRange } from "./fused-pairwise.ts";
import type { HogwildEpoch, HogwildInit } from "./hogwild.ts";

const init = workerData as HogwildInit;
const mod = (await import(init.loss.url)) as Record<string, (o: unknown) => Loss>;
const loss = mod[init.loss.factory](init.loss.options);
const pw = loss.pairwise;
if (pw === null) throw new Error(`hogwild worker: loss ${init.loss.factory} has no pairwise form`);
const alias = new AliasTable(init.prob);
const lg = new Float64Array(2);
const port = parentPort;
if (port === null) throw new Error("hogwild.worker must run as a worker thread");
port.on("message", (job: HogwildEpoch) => {
  const rng = new Rng(job.seed);
  const loss = pairwiseSgdRange(
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
