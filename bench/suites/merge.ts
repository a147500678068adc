/**
 * Multi-channel merge on Gowalla (spec §5.1.4): popular + ItemCF + UserCF + ALS, each channel's
 * top-200 evaluated alone, then merged to 200 by round robin (Code 5-2) and priority (Code 5-1),
 * with and without duplicate skipping and channel weights. Channels are fitted once; every merge
 * reuses the same lists.
 *   npm run bench -- merge --json [--dataset gowalla] [--k 200]
 */
import { resolveDataset, userItemCsr } from "../../src/data/index.ts";
import { evaluateTopK, recommendAll, testUsers } from "../../src/eval/index.ts";
import { TopK } from "../../src/math/topk.ts";
import { type MergeOptions, mergeTopK } from "../../src/recall/merge.ts";
import { createModel } from "../../src/registry.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB, timed } from "../util.ts";

const CHANNELS: [string, string, Record<string, unknown>][] = [
  ["popular", "popular", {}],
  ["itemcf", "itemcf", { preset: "gowalla" }],
  ["usercf", "usercf", { neighbors: 200 }],
  ["als", "als", { factors: 128, regularization: 100, iterations: 15 }],
];

const MERGES: [string, MergeOptions][] = [
  ["roundRobin", { strategy: "roundRobin" }],
  ["roundRobin+skipDuplicates", { strategy: "roundRobin", skipDuplicates: true }],
  [
    "roundRobin weights itemcf=2 popular=0.25",
    { strategy: "roundRobin", skipDuplicates: true, weights: { itemcf: 2, popular: 0.25 } },
  ],
  ["priority (itemcf, usercf, als, popular)", { strategy: "priority" }],
];

export async function run(ctx: BenchContext): Promise<void> {
  const name = arg(ctx.args, "dataset", "gowalla");
  const k = Number(arg(ctx.args, "k", "200"));
  const ds = await resolveDataset(name, ctx.dataDir === undefined ? {} : { dataDir: ctx.dataDir });
  if (ds.test === null) throw new Error(`${name} has no test split`);
  const train = userItemCsr(ds.train, ds.users.size, ds.items.size);
  const test = userItemCsr(ds.test, ds.users.size, ds.items.size);
  const users = testUsers(test);
  const ks = [20, 100, k];
  const lists = new Map<string, TopK>();
  for (const [label, model, params] of CHANNELS) {
    const m = createModel(model, params);
    const [, trainSec] = await timed(() => m.fit(ds));
    const [parts, recSec] = await timed(() => recommendAll(m, users, k, train));
    const top = TopK.concat(parts);
    lists.set(label, top);
    const r = evaluateTopK(top, users, train, test, { ks });
    ctx.emit({
      suite: "merge",
      dataset: ds.name,
      model: label,
      params,
      metrics: r.metrics,
      seconds: { train: trainSec, eval: recSec },
      peakRssMB: peakRssMB(),
    });
  }
  const byPriority = ["itemcf", "usercf", "als", "popular"].map((n) => ({
    name: n,
    lists: lists.get(n) as TopK,
  }));
  const byDefault = CHANNELS.map(([n]) => ({ name: n, lists: lists.get(n) as TopK }));
  for (const [label, opts] of MERGES) {
    const [m, sec] = await timed(() =>
      mergeTopK(opts.strategy === "priority" ? byPriority : byDefault, k, opts),
    );
    const r = evaluateTopK(m, users, train, test, { ks });
    ctx.emit({
      suite: "merge",
      dataset: ds.name,
      model: `merge/${label}`,
      params: { ...opts, k },
      metrics: r.metrics,
      seconds: { eval: sec },
      peakRssMB: peakRssMB(),
    });
  }
  // Without the weak popularity channel.
  const strong = byDefault.filter((c) => c.name !== "popular");
  for (const skipDuplicates of [false, true]) {
    const m = mergeTopK(strong, k, { strategy: "roundRobin", skipDuplicates });
    const r = evaluateTopK(m, users, train, test, { ks });
    ctx.emit({
      suite: "merge",
      dataset: ds.name,
      model: `merge/roundRobin${skipDuplicates ? "+skipDuplicates" : ""} (no popular)`,
      params: { strategy: "roundRobin", skipDuplicates, k },
      metrics: r.metrics,
      seconds: {},
      peakRssMB: peakRssMB(),
    });
  }
}
