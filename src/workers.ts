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

/**
 * Persistent workers of one job (a fit): all start from the same `init`, answer one message when
 * ready, then one reply per posted job. Tables travel once in `init` as SharedArrayBuffers.
 */
export class WorkerPool<Job> {
  private constructor(private readonly workers: Worker[]) {}

  get size(): number {
    return this.workers.length;
  }

  /** Starts `n` workers on `url` and waits until each has said it is ready. */
  static async start<Job>(url: URL, n: number, init: unknown): Promise<WorkerPool<Job>> {
    const pool = new WorkerPool<Job>(Array.from({ length: n }, () => startWorker(url, init)));
    try {
      await pool.all(() => null);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Posts job(i) to worker i (null: only await its next message); resolves with each reply. */
  all<T>(job: (i: number) => Job | null): Promise<T[]> {
    return Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<T>((resolve, reject) => {
            const onError = (err: Error) => {
              w.off("message", onMessage);
              reject(err);
            };
            const onMessage = (m: T) => {
              w.off("error", onError);
              resolve(m);
            };
            w.once("message", onMessage);
            w.once("error", onError);
            const j = job(i);
            if (j !== null) w.postMessage(j);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
