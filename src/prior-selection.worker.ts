/**
 * Worker entry for `selectPopularityPriorInWorker` (registry.ts): rebuilds the dataset and the
 * registry model, runs the validation fit that chooses β, and posts the selection — or the
 * error's message, so the caller's error still names the model and option at fault.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type DatasetMessage, datasetFromMessage } from "./data/transfer.ts";
import { selectPopularityPrior } from "./recall/popularity-prior.ts";
import { createModel, type ModelSpec } from "./registry.ts";

const d = workerData as {
  spec: ModelSpec;
  data: DatasetMessage;
  opts: Parameters<typeof selectPopularityPrior>[2];
};
try {
  const selection = await selectPopularityPrior(
    () => createModel(d.spec.model, { ...d.spec.options }),
    datasetFromMessage(d.data),
    d.opts,
  );
  parentPort?.postMessage({ selection });
} catch (err) {
  parentPort?.postMessage({ error: (err as Error).message });
}
