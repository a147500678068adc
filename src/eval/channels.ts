/**
 * Evaluates several recall channels and their merge in one run (spec §5.1.4, DESIGN §5): each
 * channel is fitted, evaluated alone, and its top-`mergeK` lists are merged round-robin (or by
 * priority) and evaluated the same way.
 */
import { userItemCsr } from "../data/matrix.ts";
import { assert } from "../errors.ts";
import type { Csr } from "../math/csr.ts";
import { TopK } from "../math/topk.ts";
import { type MergeStrategy, mergeTopK } from "../recall/merge.ts";
import type { Recommender } from "../recommender.ts";
import type { Dataset } from "../types.ts";
import { type EvalReport, evaluate, evaluateTopK } from "./evaluate.ts";

export interface ChannelReport {
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly users: number;
  readonly metrics: Record<string, number>;
  readonly seconds: { train: number; eval: number };
}

export interface EvaluateChannelsOptions {
  readonly ks?: readonly number[];
  /** Merge the channels' top-mergeK lists (default: no merge with one channel, 200 with several). */
  readonly mergeK?: number;
  readonly strategies?: readonly MergeStrategy[];
  /** Round-robin pops per round by channel name (see MergeOptions.weights). */
  readonly weights?: Readonly<Record<string, number>>;
  /** Round robin: a channel popping an already-merged item pops again (default false, Code 5-2). */
  readonly skipDuplicates?: boolean;
  /** Fit each model first (default true; false for models loaded from artifacts). */
  readonly fit?: boolean;
  readonly onLog?: (msg: string) => void;
  readonly onProgress?: (label: string, done: number, total: number) => void;
  /** Called with each channel's (then each merge's) report as soon as it is measured. */
  readonly onReport?: (r: ChannelReport) => void;
}

/** Users that have at least one test interaction. */
export function testUsers(test: Csr): Int32Array {
  const u: number[] = [];
  for (let r = 0; r < test.nRows; r++) if (test.offsets[r + 1] > test.offsets[r]) u.push(r);
  return Int32Array.from(u);
}

/** Top-k lists for `users` through `recommend`, in batches (seen items masked). */
export async function recommendAll(
  model: Recommender,
  users: Int32Array,
  k: number,
  exclude: Csr,
  batch = 8192,
): Promise<TopK[]> {
  const parts: TopK[] = [];
  for (let s = 0; s < users.length; s += batch)
    parts.push(await model.recommend(users.subarray(s, s + batch), k, { exclude }));
  return parts;
}

export async function evaluateChannels(
  data: Dataset,
  channels: readonly { name: string; model: Recommender }[],
  opts: EvaluateChannelsOptions = {},
): Promise<{ channels: ChannelReport[]; merged: ChannelReport[] }> {
  assert(data.test !== null, () => `dataset "${data.name}" has no test split to evaluate on`);
  const nU = data.users.size;
  const nI = data.items.size;
  const train = userItemCsr(data.train, nU, nI);
  const test = userItemCsr(data.test, nU, nI);
  const mergeK = opts.mergeK ?? (channels.length > 1 ? 200 : 0);
  const ks = [...new Set([...(opts.ks ?? [20, 100]), ...(mergeK > 0 ? [mergeK] : [])])].sort((a, b) => a - b);
  const log = opts.onLog ?? (() => {});
  const reports: ChannelReport[] = [];
  const lists: { name: string; lists: TopK }[] = [];
  const users = testUsers(test);
  for (const { name, model } of channels) {
    const t0 = performance.now();
    if (opts.fit ?? true) {
      log(`${name}: fitting`);
      await model.fit(data);
    }
    const t1 = performance.now();
    // With a merge, each channel's lists are computed once and serve both its own metrics and
    // the merge; without one, `evaluate` takes the fastest path for the model.
    let r: EvalReport;
    if (mergeK > 0) {
      const top = TopK.concat(await recommendAll(model, users, ks[ks.length - 1], train));
      r = evaluateTopK(top, users, train, test, { ks });
      lists.push({ name, lists: top });
    } else {
      r = await evaluate(model, train, test, {
        ks,
        users,
        // Recommender path: few large calls, since some models start worker threads per call.
        ...(model.embeddings === undefined ? { batchSize: 8192 } : {}),
        onProgress: (d, t) => opts.onProgress?.(name, d, t),
      });
    }
    const t2 = performance.now();
    const report: ChannelReport = {
      name,
      params: model.params(),
      users: r.users,
      metrics: r.metrics,
      seconds: { train: (t1 - t0) / 1000, eval: (t2 - t1) / 1000 },
    };
    reports.push(report);
    opts.onReport?.(report);
    log(
      `${name}: recall@${ks[0]}=${r.metrics[`recall@${ks[0]}`]?.toFixed(4)} (${((t2 - t0) / 1000).toFixed(1)}s)`,
    );
  }
  const merged: ChannelReport[] = [];
  if (mergeK > 0) {
    for (const strategy of opts.strategies ?? ["roundRobin"]) {
      const t0 = performance.now();
      const m = mergeTopK(lists, mergeK, {
        strategy,
        ...(opts.weights === undefined ? {} : { weights: opts.weights }),
        ...(opts.skipDuplicates === undefined ? {} : { skipDuplicates: opts.skipDuplicates }),
      });
      const r = evaluateTopK(m, users, train, test, { ks });
      const report: ChannelReport = {
        name: `merge/${strategy}`,
        params: {
          strategy,
          k: mergeK,
          channels: channels.map((c) => c.name),
          ...(opts.weights === undefined ? {} : { weights: opts.weights }),
          ...(opts.skipDuplicates ? { skipDuplicates: true } : {}),
        },
        users: r.users,
        metrics: r.metrics,
        seconds: { train: 0, eval: (performance.now() - t0) / 1000 },
      };
      merged.push(report);
      opts.onReport?.(report);
    }
  }
  return { channels: reports, merged };
}
