/** Small helpers shared by bench suites. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { evaluateEmbeddings } from "../src/eval/evaluate.ts";
import type { Csr } from "../src/math/csr.ts";
import { PopularityPrior } from "../src/recall/popularity-prior.ts";
import type { Embeddings, Recommender } from "../src/recommender.ts";
import { type ModelSpec, withPopularityPrior } from "../src/registry.ts";

/** Peak resident set size of this process so far, in MB. */
export function peakRssMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Wall-clock seconds of an async function. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, (performance.now() - t0) / 1000];
}

/** Value of `--name v` in suite args, or the fallback. */
export function arg(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/**
 * Runs a peer script from ../shared/peers with Debian's python3 and returns its one JSON line,
 * or null (with the reason) when the peer or its Python packages are not installed.
 */
export function runPeer(
  script: string,
  args: string[],
  peersDir = "../shared/peers",
): { result: Record<string, unknown> | null; reason?: string } {
  const path = `${peersDir}/${script}`;
  if (!existsSync(path)) return { result: null, reason: `${path} not found` };
  if (!existsSync("/usr/bin/python3")) return { result: null, reason: "/usr/bin/python3 not found" };
  const p = spawnSync("/usr/bin/python3", [path, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (p.status !== 0)
    return { result: null, reason: `${script} exited ${p.status}: ${p.stderr.trim().split("\n").pop()}` };
  const line = p.stdout.trim().split("\n").pop() ?? "";
  try {
    return { result: JSON.parse(line) as Record<string, unknown> };
  } catch {
    return { result: null, reason: `${script} printed no JSON line` };
  }
}

/** `--prior β|auto` (popularity prior, recall/popularity-prior.ts): null when absent. */
export function priorArg(args: readonly string[]): number | "auto" | null {
  const v = arg(args, "prior", "");
  if (v === "") return null;
  if (v === "auto") return "auto";
  const b = Number(v);
  if (!(b >= 0)) throw new Error(`--prior must be a number ≥ 0 or auto, got ${v}`);
  return b;
}

/** The metrics a Gowalla result line reports: Recall/NDCG@20, Recall@100, coverage@20, plus `more`. */
export function headlineMetrics(
  m: Record<string, number>,
  more: readonly string[] = [],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ["recall@20", "ndcg@20", "recall@100", "coverage@20", ...more]) out[k] = m[k];
  return out;
}

/** CPU seconds (user + system, all threads) this process has used so far. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * `inner` served with `--prior β|auto`, or `inner` itself when the flag is absent — the registry's
 * `withPopularityPrior`, so "auto" chooses β on a validation slice of the training data (one more
 * fit of `make()`, the test split unread) in a worker thread beside the final fit, as
 * `createModel(…, { popularityPrior: "auto" })` does; the fit's wall time then covers both.
 * `inner` may carry bench callbacks (per-epoch test scores): the worker rebuilds `spec` without them.
 */
export function withPrior<M extends Recommender>(
  inner: M,
  prior: number | "auto" | null,
  spec: ModelSpec,
  make: () => Recommender,
): M | PopularityPrior {
  return prior === null ? inner : withPopularityPrior(inner, prior, spec, make);
}

/** What a result line reports about the prior: the chosen β's validation table and the scores without it. */
export async function priorExtras(
  m: Recommender,
  train: Csr,
  test: Csr,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  if (!(m instanceof PopularityPrior)) return {};
  const out: Record<string, unknown> = {};
  if (m.selection !== null) {
    out.priorSelection = m.selection.table;
    out.priorSelectionInWorker = m.selectedInWorker;
    log(
      `popularity prior β = ${m.selection.beta} chosen on validation (${m.selection.table.map((r) => `${r.beta}: ${r.recall.toFixed(4)}`).join(", ")})`,
    );
  }
  const r = await evaluateEmbeddings((m.inner.embeddings as () => Embeddings)(), train, test, { ks: [20] });
  out.withoutPrior = {
    "recall@20": r.metrics["recall@20"],
    "ndcg@20": r.metrics["ndcg@20"],
    "coverage@20": r.metrics["coverage@20"],
  };
  return out;
}
