/**
 * ANN index artifacts for `retrieval: ann` channels. `recallkit train --config` builds each
 * index once (model × spec × metric, shared by every channel that names the same triple) and
 * saves it next to the model; the service opens the saved index on start and on reload instead
 * of rebuilding HNSW over the item vectors (seconds on Gowalla-sized models). A `source.json`
 * beside the index records what it was built from — model key, canonical spec, metric, dim,
 * item count and a SHA-256 of the item vectors — and the service rebuilds in process (with the
 * reason in `ServingState.annIndexes`) whenever the artifact is missing or any of those differ.
 * A reload whose model is unchanged (same source) keeps the index the previous state serves.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AnnIndex, Metric } from "../index/ann-index.ts";
import { createIndex, loadIndex } from "../index/factory.ts";
import { formatSpec, parseSpec } from "../index/spec.ts";
import { writeFileAtomic } from "../io/artifact.ts";
import type { RecallConfig } from "./config.ts";

/** What an index was built from; equal sources mean the saved index is the one a build gives. */
export interface AnnSource {
  readonly model: string;
  readonly spec: string;
  readonly metric: Metric;
  readonly dim: number;
  readonly items: number;
  /** SHA-256 (hex) of the item vectors' bytes. */
  readonly vectors: string;
}

/** How a served ANN index came to be: opened from its artifact, or built at load (and why). */
export interface AnnIndexReport {
  readonly key: string;
  readonly channels: string[];
  readonly dir: string;
  /** artifact: opened from disk; reused: the previous state's index (same source); built: at load. */
  readonly origin: "artifact" | "reused" | "built";
  /** Why it was built (origin "built"). */
  readonly reason?: string;
  readonly seconds: number;
}

export function sameSource(a: AnnSource, b: AnnSource): boolean {
  return (
    a.model === b.model &&
    a.spec === b.spec &&
    a.metric === b.metric &&
    a.dim === b.dim &&
    a.items === b.items &&
    a.vectors === b.vectors
  );
}

/** Canonical form of a spec ("HNSW32,ef=64"). */
export function canonicalSpec(spec: string): string {
  return formatSpec(parseSpec(spec));
}

/** Index identity within a config: one index per model × spec × metric. */
export function annKey(model: string, spec: string, metric: Metric): string {
  return `${model}.${canonicalSpec(spec).replace(/,/g, "_")}.${metric}`;
}

/** `<artifacts>/ann/<model>.<spec>.<metric>`. */
export function annIndexDir(config: RecallConfig, model: string, spec: string, metric: Metric): string {
  return join(config.artifacts, "ann", annKey(model, spec, metric));
}

export function annSource(
  model: string,
  spec: string,
  metric: Metric,
  items: Float32Array,
  dim: number,
): AnnSource {
  const h = createHash("sha256").update(new Uint8Array(items.buffer, items.byteOffset, items.byteLength));
  return {
    model,
    spec: canonicalSpec(spec),
    metric,
    dim,
    items: items.length / dim,
    vectors: h.digest("hex"),
  };
}

export function buildAnnIndex(s: AnnSource, items: Float32Array): AnnIndex {
  const index = createIndex(s.spec, s.dim, s.metric);
  if (items.length > 0) index.add(items);
  return index;
}

/** Saves the index and, after it, its source record (no record ⇒ the service rebuilds). */
export async function saveAnnIndex(dir: string, index: AnnIndex, s: AnnSource): Promise<void> {
  await index.save(dir);
  await writeFileAtomic(join(dir, "source.json"), `${JSON.stringify(s, null, 2)}\n`);
}

/**
 * The saved index when its source record matches `want`, else the reason it cannot be used
 * (missing, built from another model/spec/metric/vectors, unreadable).
 */
export async function openAnnIndex(
  dir: string,
  want: AnnSource,
): Promise<{ index: AnnIndex } | { reason: string }> {
  let have: AnnSource;
  try {
    have = JSON.parse(await readFile(join(dir, "source.json"), "utf8")) as AnnSource;
  } catch {
    return { reason: `no saved index at ${dir}` };
  }
  for (const f of ["model", "spec", "metric", "dim", "items", "vectors"] as const)
    if (have[f] !== want[f])
      return {
        reason:
          f === "vectors"
            ? `${dir} was built from other item vectors (model retrained)`
            : `${dir} was built with ${f} ${JSON.stringify(have[f])}, config wants ${JSON.stringify(want[f])}`,
      };
  try {
    const index = await loadIndex(dir);
    if (
      index.spec !== want.spec ||
      index.metric !== want.metric ||
      index.dim !== want.dim ||
      index.size !== want.items
    )
      return { reason: `${dir}: index does not match its source record` };
    return { index };
  } catch (err) {
    return { reason: `${dir}: ${(err as Error).message}` };
  }
}
