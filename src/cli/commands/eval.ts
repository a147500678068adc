/** `recallkit eval --dataset D --model m1[,m2...] [--param m.key=v] [--k 20,100] [--merge-k 200] [--json]` or `--config recall.yaml` */
import { RecallkitError } from "../../errors.ts";
import { type ChannelReport, evaluateChannels } from "../../eval/channels.ts";
import type { MergeStrategy } from "../../recall/merge.ts";
import { createModel, loadModel, modelNames } from "../../registry.ts";
import { loadConfig } from "../../serve/config.ts";
import { evaluateFromConfig } from "../../serve/pipeline.ts";
import { paramsFor, parse, parseKs } from "../args.ts";
import { Progress } from "../progress.ts";
import { datasetFrom } from "./shared.ts";

const HELP = `usage: recallkit eval --dataset NAME|PATH --model NAME[,NAME...] [options]
       recallkit eval --config recall.yaml [--json]

Full-ranking evaluation (training items masked) of each model and, with several models, of their
merge. Prints Recall/NDCG/HitRate/Precision/MRR/MAP at each K, coverage, average popularity,
Gini and long-tail share.

With --config, evaluates every channel of the config exactly as it is served (its query source,
ANN index and seeds; models from their artifacts) and the configured merge.

options:
  --config FILE        a recall.yaml (after recallkit train --config)
  --dataset D          dataset name (resolved in RECALLKIT_DATA or --data-dir) or path
  --model M[,M...]     models: ${modelNames().join(", ")}
  --artifact DIR       evaluate a saved model instead of training one (repeatable)
  --param m.key=v      model option (repeatable); "key=v" when one model is named
  --k 20,100           cut-offs (default 20,100)
  --merge-k N          size of the merged list (default 200 with several models; 0 = no merge)
  --merge S[,S]        roundRobin (spec Code 5-2, default), priority (Code 5-1), or both
  --merge-weights m=w,...  round-robin pops per round per model (default 1; 0.5 = every other round)
  --merge-skip-duplicates  a channel whose popped item is already merged pops again
  --json               one JSON line per model and per merge
  --data-dir DIR       where named datasets live (default $RECALLKIT_DATA)
  --skip-bad-rows      count and report malformed input rows instead of failing`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    dataset: { type: "string" },
    model: { type: "string" },
    artifact: { type: "string", multiple: true },
    param: { type: "string", multiple: true },
    k: { type: "string" },
    "merge-k": { type: "string" },
    merge: { type: "string" },
    "merge-weights": { type: "string" },
    "merge-skip-duplicates": { type: "boolean" },
    config: { type: "string" },
  });
  if (values.help) return void console.log(HELP);
  if (values.config !== undefined) {
    const json = values.json === true;
    const progress = new Map<string, Progress>();
    await evaluateFromConfig(await loadConfig(values.config), {
      log: (m) => process.stderr.write(`${m}\n`),
      onProgress: (label, done, total) => {
        const p = progress.get(label) ?? new Progress(`eval ${label}`, total, "users", json);
        progress.set(label, p);
        p.update(done);
      },
      onReport: (c, dataset) => printReport(dataset, c, json),
    });
    return;
  }
  const names = values.model === undefined ? [] : values.model.split(",").filter((s) => s.length > 0);
  const artifacts = values.artifact ?? [];
  const params = paramsFor(names, values.param ?? []);
  const channels = names.map((n) => ({ name: n, model: createModel(n, params.get(n)) }));
  for (const dir of artifacts) channels.push({ name: dir, model: await loadModel(dir) });
  if (channels.length === 0)
    throw new RecallkitError(
      "RK_ERR_INVALID_ARGUMENT",
      `no model given: pass --model NAME (${modelNames().join(", ")}) or --artifact DIR`,
    );
  const ds = await datasetFrom(values);
  const ks = parseKs(values.k, [20, 100]);
  const progress = new Map<string, Progress>();
  await evaluateChannels(ds, channels, {
    ks,
    fit: artifacts.length === 0,
    ...(values["merge-k"] === undefined ? {} : { mergeK: Number(values["merge-k"]) }),
    strategies: parseStrategies(values.merge ?? "roundRobin"),
    ...(values["merge-weights"] === undefined ? {} : { weights: parseWeights(values["merge-weights"]) }),
    ...(values["merge-skip-duplicates"] ? { skipDuplicates: true } : {}),
    onLog: (m) => process.stderr.write(`${m}\n`),
    onProgress: (label, done, total) => {
      const p = progress.get(label) ?? new Progress(`eval ${label}`, total, "users", values.json);
      progress.set(label, p);
      p.update(done);
    },
    // each report as soon as it is measured: a long multi-model run shows its first results early
    onReport: (r) => printReport(ds.name, r, values.json === true),
  });
}

export function printReport(dataset: string, r: ChannelReport, json: boolean): void {
  if (json) {
    console.log(
      JSON.stringify({
        dataset,
        model: r.name,
        params: r.params,
        users: r.users,
        metrics: r.metrics,
        seconds: r.seconds,
      }),
    );
    return;
  }
  const ks = [...new Set(Object.keys(r.metrics).map((k) => Number(k.split("@")[1])))]
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const cols = [
    "recall",
    "ndcg",
    "hitrate",
    "precision",
    "mrr",
    "map",
    "coverage",
    "avgpop",
    "gini",
    "longtail",
  ];
  console.log(
    `\n${r.name} on ${dataset} (${r.users} users; train ${r.seconds.train.toFixed(1)}s, eval ${r.seconds.eval.toFixed(1)}s)`,
  );
  console.log(`  ${"K".padStart(4)} ${cols.map((c) => c.padStart(9)).join(" ")}`);
  for (const k of ks)
    console.log(
      `  ${String(k).padStart(4)} ${cols.map((c) => fmt(r.metrics[`${c}@${k}`]).padStart(9)).join(" ")}`,
    );
}

function fmt(v: number | undefined): string {
  if (v === undefined) return "-";
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4);
}

function parseStrategies(s: string): MergeStrategy[] {
  const out = s.split(",");
  for (const x of out) {
    if (x !== "roundRobin" && x !== "priority") {
      throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `--merge "${x}": expected roundRobin or priority`);
    }
  }
  return out as MergeStrategy[];
}

/** "itemcf=2,popular=0.5" → { itemcf: 2, popular: 0.5 }. */
function parseWeights(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of s.split(",")) {
    const [name, w] = part.split("=");
    const v = Number(w);
    if (name === undefined || name === "" || w === undefined || !Number.isFinite(v) || v < 0) {
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `--merge-weights "${part}": expected model=weight with weight ≥ 0`,
      );
    }
    out[name] = v;
  }
  return out;
}
