/**
 * Dataset names and paths → `Dataset`. Named datasets live in `<dataDir>/<name>` (dataDir from the
 * option or RECALLKIT_DATA); `synthetic[:key=value,...]` is generated; any other string is a path
 * whose layout is sniffed. A dataset without a fixed test split (MovieLens, Diginetica, synthetic,
 * generic CSV without test.csv) gets the default split: per user, random 80/20 by distinct item,
 * seed 42 (`splitRandom(log, { ratio: 0.8, seed: 42 })`); pass `split: false` to keep it whole.
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { RecallkitError } from "../errors.ts";
import type { Dataset } from "../types.ts";
import { loadCsvDataset } from "./csv-dataset.ts";
import { digineticaViewsFile, loadDiginetica } from "./diginetica.ts";
import { loadLightGcn } from "./lightgcn.ts";
import { detectMovieLens, loadMovieLens } from "./movielens.ts";
import { splitRandom, withSplit } from "./split.ts";
import { type SyntheticOptions, synthesize } from "./synthetic.ts";

/** Names `resolveDataset` knows (besides paths). */
export const KNOWN_DATASETS = [
  "gowalla",
  "ml-100k",
  "ml-latest-small",
  "ml-1m",
  "diginetica",
  "synthetic",
] as const;

export interface ResolveOptions {
  /** Folder holding one subfolder per named dataset (default: env RECALLKIT_DATA). */
  readonly dataDir?: string;
  readonly skipBadRows?: boolean;
  /** Apply the default 80/20 split (seed 42) when the data has no test split (default true). */
  readonly split?: boolean;
}

export type DatasetKind = "lightgcn" | "movielens" | "diginetica" | "csv";

/** Which loader a folder needs, or null. */
export function sniffDataset(dir: string): DatasetKind | null {
  if (existsSync(join(dir, "train.txt"))) return "lightgcn";
  if (detectMovieLens(dir) !== null) return "movielens";
  if (digineticaViewsFile(dir) !== null) return "diginetica";
  if (existsSync(join(dir, "interactions.csv"))) return "csv";
  return null;
}

const SYNTHETIC_KEYS: Record<string, keyof SyntheticOptions> = {
  seed: "seed",
  users: "nUsers",
  items: "nItems",
  clusters: "nClusters",
  sessions: "sessionsPerUser",
  views: "viewsPerSession",
  focus: "focus",
  purchase: "purchaseRate",
};

/** Parses `synthetic:seed=7,users=5000` into options. */
export function parseSyntheticSpec(spec: string): SyntheticOptions {
  const out: Record<string, number> = {};
  const rest = spec.slice("synthetic".length).replace(/^:/, "");
  if (rest.length === 0) return out;
  for (const part of rest.split(",")) {
    const [k, v] = part.split("=");
    const key = SYNTHETIC_KEYS[(k ?? "").trim()];
    const num = Number(v);
    if (key === undefined || v === undefined || v.trim() === "" || !Number.isFinite(num)) {
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `"${spec}": bad option "${part}"; expected key=number with key one of ${Object.keys(SYNTHETIC_KEYS).join(", ")}`,
      );
    }
    out[key] = num;
  }
  return out as SyntheticOptions;
}

async function loadFolder(
  dir: string,
  kind: DatasetKind,
  name: string,
  skipBadRows: boolean,
): Promise<Dataset> {
  switch (kind) {
    case "lightgcn":
      return loadLightGcn(dir, { name });
    case "movielens":
      return loadMovieLens(dir, { name, skipBadRows });
    case "diginetica":
      return loadDiginetica(dir, { name, skipBadRows });
    case "csv":
      return loadCsvDataset(dir, { name, skipBadRows });
  }
}

/**
 * Loads a dataset by name or path.
 * @example
 * const gowalla = await resolveDataset("gowalla");            // $RECALLKIT_DATA/gowalla, fixed split
 * const syn = await resolveDataset("synthetic:seed=7,users=5000");
 * const mine = await resolveDataset("./my-data");              // sniffed layout
 */
export async function resolveDataset(nameOrPath: string, opts: ResolveOptions = {}): Promise<Dataset> {
  const skip = opts.skipBadRows === true;
  let ds: Dataset;
  if (nameOrPath === "synthetic" || nameOrPath.startsWith("synthetic:")) {
    ds = synthesize(parseSyntheticSpec(nameOrPath));
    if (nameOrPath !== "synthetic") ds = { ...ds, name: nameOrPath };
  } else if ((KNOWN_DATASETS as readonly string[]).includes(nameOrPath)) {
    const dataDir = opts.dataDir ?? process.env.RECALLKIT_DATA;
    const from = opts.dataDir !== undefined ? "dataDir option" : "RECALLKIT_DATA";
    if (dataDir === undefined || dataDir === "") {
      throw new RecallkitError(
        "RK_ERR_DATASET_UNKNOWN",
        `dataset "${nameOrPath}" needs a data folder: set RECALLKIT_DATA or pass dataDir (known: ${KNOWN_DATASETS.join(", ")})`,
      );
    }
    const dir = join(dataDir, nameOrPath);
    const kind = existsSync(dir) ? sniffDataset(dir) : null;
    if (kind === null) {
      throw new RecallkitError(
        "RK_ERR_DATASET_UNKNOWN",
        `dataset "${nameOrPath}" not found: looked in ${resolve(dir)} (data folder from ${from}); known: ${KNOWN_DATASETS.join(", ")}`,
      );
    }
    ds = await loadFolder(dir, kind, nameOrPath, skip);
  } else {
    let dir = nameOrPath;
    if (existsSync(dir) && statSync(dir).isFile()) dir = dirname(dir);
    const kind = existsSync(dir) ? sniffDataset(dir) : null;
    if (kind === null) {
      const why = existsSync(nameOrPath)
        ? `${resolve(dir)} holds none of train.txt, u.data, ratings.dat, ratings.csv, *item-views.csv, interactions.csv`
        : `no such path ${resolve(nameOrPath)}`;
      throw new RecallkitError(
        "RK_ERR_DATASET_UNKNOWN",
        `unknown dataset "${nameOrPath}": not a known name (${KNOWN_DATASETS.join(", ")}, synthetic:seed=N,users=N) and ${why}`,
      );
    }
    ds = await loadFolder(dir, kind, basename(resolve(dir)), skip);
  }
  if (ds.test === null && opts.split !== false)
    ds = withSplit(ds, splitRandom(ds.train, { ratio: 0.8, seed: 42 }));
  return ds;
}
