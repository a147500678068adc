/**
 * Worker entry for the embedding fast path: workerData is a ScoreJob whose typed arrays view
 * SharedArrayBuffers (factors, training CSR, output rows, control counters), so nothing is
 * copied. The worker claims blocks until none are left (see score.ts), then posts one message.
 * Each worker compiles its own wasm instance on its own memory.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type ScoreJob, scoreBlocks } from "./score.ts";

scoreBlocks(workerData as ScoreJob, null);
parentPort?.postMessage("done");
