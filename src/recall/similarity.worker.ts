/**
 * Worker entry for ItemCF/UserCF: "build" computes similarity rows for the chunks it claims from
 * a shared counter and sends its rows back (transferred); "score" writes top-k rows straight into
 * shared result buffers. All inputs arrive once as SharedArrayBuffer-backed arrays.
 */
import { parentPort, workerData } from "node:worker_threads";
import { buildChunks, type ScoreInput, type SimInput, scoreChunks } from "./similarity.ts";

interface BuildTask {
  task: "build";
  inp: SimInput;
  rows: Int32Array;
  bounds: Int32Array;
  next: Int32Array;
  counts: Int32Array;
}
interface ScoreTask {
  task: "score";
  inp: ScoreInput;
  queries: Int32Array;
  maskRows: Int32Array;
  k: number;
  chunk: number;
  next: Int32Array;
  ids: Int32Array;
  scores: Float32Array;
  counts: Int32Array;
}

const d = workerData as BuildTask | ScoreTask;
if (d.task === "build") {
  const r = buildChunks(d.inp, d.rows, d.bounds, d.next, d.counts);
  parentPort?.postMessage(r, [
    r.chunks.buffer,
    r.starts.buffer,
    r.indices.buffer,
    r.scores.buffer,
  ] as ArrayBuffer[]);
} else {
  scoreChunks(d.inp, d.queries, d.maskRows, d.k, d.chunk, d.next, d.ids, d.scores, d.counts);
  parentPort?.postMessage(true);
}
