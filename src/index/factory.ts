/**
 * `createIndex("HNSW32,efC=200,ef=64", 64, "ip")` (faiss's index_factory) and `loadIndex(dir)`,
 * which opens whichever index type an artifact holds.
 */
import { RecallkitError } from "../errors.ts";
import { readArtifact } from "../io/artifact.ts";
import type { AnnIndex, Metric } from "./ann-index.ts";
import { BruteForceIndex, FLAT_ARTIFACT_TYPE } from "./brute-force.ts";
import { HNSW_ARTIFACT_TYPE, HnswIndex, type HnswOptions } from "./hnsw.ts";
import { parseSpec } from "./spec.ts";

export type IndexOptions = HnswOptions;

/** Builds an empty index from a spec; `index.spec` prints the spec back (canonical form). */
export function createIndex(
  spec: string,
  dim: number,
  metric: Metric = "ip",
  opts: IndexOptions = {},
): AnnIndex {
  const s = parseSpec(spec);
  if (s.kind === "flat") return new BruteForceIndex(dim, metric);
  return new HnswIndex(dim, metric, s, opts);
}

/** Opens an index saved by `AnnIndex.save`, whatever its type. */
export async function loadIndex(dir: string): Promise<AnnIndex> {
  const { manifest } = await readArtifact(dir);
  if (manifest.type === FLAT_ARTIFACT_TYPE) return BruteForceIndex.load(dir);
  if (manifest.type === HNSW_ARTIFACT_TYPE) return HnswIndex.load(dir);
  throw new RecallkitError("RK_ERR_ARTIFACT", `${dir}: artifact is a "${manifest.type}", not an ANN index`);
}
