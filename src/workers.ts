/**
 * Worker-thread helpers. Worker entries are `*.worker.ts` next to their caller; under tsx the
 * `.ts` file runs (workers inherit `--import tsx` through execArgv), after `tsc` the `.js` one.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** URL of a worker entry beside the calling module: `workerUrl("./score.worker", import.meta.url)`. */
export function workerUrl(stem: string, base: string): URL {
  return new URL(`${stem}${base.endsWith(".ts") ? ".ts" : ".js"}`, base);
}

/**
 * Starts a worker on a `.js` or `.ts` entry. On Node 20, tsx hooks only the main thread, so a
 * `.ts` entry is booted through a tiny eval'd module that registers tsx inside the worker first.
 */
export function startWorker(url: URL, workerData: unknown, transferList: ArrayBuffer[] = []): Worker {
  if (!url.pathname.endsWith(".ts")) return new Worker(url, { workerData, transferList });
  const api = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData, transferList });
}

/** Default worker count: the machine's cores (2 here), overridable with RECALLKIT_WORKERS. */
export function defaultWorkers(): number {
  const env = Number(process.env.RECALLKIT_WORKERS);
  return Number.isInteger(env) && env >= 0 ? env : availableParallelism();
}

/**
 * Starts `n` workers on `url` with workerData from `data(i)` and resolves with each worker's
 * first message, in worker order. Rejects (and terminates the rest) if any worker fails.
 */
export async function runWorkers<T>(
  url: URL,
  n: number,
  data: (i: number) => unknown,
  transfer?: (i: number) => ArrayBuffer[],
): Promise<T[]> {
  const workers: Worker[] = [];
  try {
    return await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const w = startWorker(url, data(i), transfer?.(i) ?? []);
        workers.push(w);
        return new Promise<T>((resolve, reject) => {
          w.once("message", (m: T) => resolve(m));
          w.once("error", reject);
          w.once("exit", (code) => {
            if (code !== 0) reject(new Error(`worker ${i} (${url.pathname}) exited with code ${code}`));
          });
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
