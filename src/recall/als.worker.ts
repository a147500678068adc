/**
 * ALS worker entry. Started once per `fit` with the shared buffers in workerData; then, for every
 * task message `{ op, side }`, it claims chunks from the shared counter until none is left and
 * answers `{ done: true }`. The main thread starts the next phase only after every worker answered,
 * so a half-step never reads factors that another worker is still writing (the message round trip
 * is the barrier; ~0.1 ms, against ~100 ms of work per phase on Gowalla).
 */
import { parentPort, workerData } from "node:worker_threads";
import { type AlsBuffers, AlsEngine, type AlsTask } from "./als-engine.ts";

const port = parentPort;
if (port === null) throw new Error("als.worker.ts must run as a worker thread");
const { buffers, slot } = workerData as { buffers: AlsBuffers; slot: number };
const engine = new AlsEngine(buffers, slot);
port.on("message", (task: AlsTask | { op: "close" }) => {
  if (task.op === "close") {
    port.close();
    return;
  }
  engine.run(task);
  port.postMessage({ done: true });
});
port.postMessage({ ready: true });
