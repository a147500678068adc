// Subgraph sampler worker (producer of subgraph-sampler.ts): rebuilds the neighbour sampler over
// the shared CSR once, then answers each job { id, targets, seed } with sampleSubgraph(targets)
// drawn from new Rng(seed) — the same call the inline producer makes, so replies are identical.
// Replies go over the transferred port (read synchronously by the consumer), then the shared
// flag is bumped and notified so a consumer blocked in Atomics.wait wakes up.
import { parentPort, workerData } from "node:worker_threads";
import { type Subgraph, SubgraphScratch, samplerFromSpec, sampleSubgraph } from "../graph/subgraph.ts";
import { Rng } from "../math/rng.ts";
import type { SamplerJob, SamplerWorkerInit } from "./subgraph-sampler.ts";

const init = workerData as SamplerWorkerInit;
const sampler = samplerFromSpec(init.spec);
const scratch = new SubgraphScratch(init.nNodes, Math.max(sampler.max, 1));
const port = parentPort;
if (port === null) throw new Error("subgraph-sampler.worker must run as a worker thread");

function buffers(s: Subgraph): ArrayBuffer[] {
  const out: ArrayBuffer[] = [s.targetIndex.buffer as ArrayBuffer];
  for (const l of s.layers) out.push(l.buffer as ArrayBuffer);
  for (const e of s.edges)
    out.push(
      e.offsets.buffer as ArrayBuffer,
      e.indices.buffer as ArrayBuffer,
      e.weights.buffer as ArrayBuffer,
    );
  return [...new Set(out)];
}

port.on("message", (job: SamplerJob) => {
  try {
    const sub = sampleSubgraph(
      job.targets,
      job.targets.length,
      init.layers,
      sampler,
      new Rng(job.seed),
      scratch,
    );
    init.port.postMessage({ id: job.id, sub }, buffers(sub));
  } catch (err) {
    init.port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
  Atomics.add(init.flag, 0, 1);
  Atomics.notify(init.flag, 0);
});
