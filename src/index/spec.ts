/**
 * Index specs as strings (faiss's index_factory): `"Flat"` (exact) or `"HNSW<M>[,efC=<n>][,ef=<n>]"`.
 * `formatSpec(parseSpec(s)) === s` for every canonical spec (keys in the order M, efC, ef, only
 * those given), so a spec printed in a manifest or a log line can be pasted back unchanged.
 */
import { RecallkitError } from "../errors.ts";

/**
 * HNSW defaults when a spec leaves a key out. On ALS/Gowalla item vectors (ip, M 16, k 20):
 * efC 200 reaches recall@20 0.946 at ef 128 and 0.977 at ef 256; efC 400 (2.5× the build time)
 * 0.965 at ef 128 (bench/suites/ann.ts). ef 128 is the default for that reason; per-call `ef`
 * overrides it.
 */
export const HNSW_DEFAULT_EF_CONSTRUCTION = 200;
export const HNSW_DEFAULT_EF_SEARCH = 128;

export type IndexSpec =
  | { readonly kind: "flat" }
  | {
      readonly kind: "hnsw";
      /** Graph degree (hnswlib's M; layer 0 keeps 2M links). */
      readonly m: number;
      /** Build breadth, or undefined for the default. */
      readonly efConstruction: number | undefined;
      /** Default search breadth, or undefined for the default. */
      readonly ef: number | undefined;
    };

function bad(spec: string, why: string): RecallkitError {
  return new RecallkitError(
    "RK_ERR_INVALID_ARGUMENT",
    `index spec "${spec}": ${why}; expected "Flat" or "HNSW<M>[,efC=<n>][,ef=<n>]", e.g. "HNSW32,efC=200,ef=64"`,
  );
}

function positiveInt(spec: string, key: string, v: string): number {
  if (!/^[1-9][0-9]*$/.test(v)) throw bad(spec, `${key} must be a positive integer, got "${v}"`);
  const n = Number(v);
  if (n > 1 << 24) throw bad(spec, `${key}=${v} is out of range`);
  return n;
}

export function parseSpec(spec: string): IndexSpec {
  if (typeof spec !== "string") throw bad(String(spec), "not a string");
  if (spec === "Flat") return { kind: "flat" };
  const parts = spec.split(",");
  const head = /^HNSW([0-9]+)$/.exec(parts[0]);
  if (head === null) throw bad(spec, `unknown index type "${parts[0]}"`);
  const m = positiveInt(spec, "M", head[1]);
  if (m < 2) throw bad(spec, "M must be ≥ 2");
  let efConstruction: number | undefined;
  let ef: number | undefined;
  for (let i = 1; i < parts.length; i++) {
    const kv = /^(efC|ef)=(.*)$/.exec(parts[i]);
    if (kv === null) throw bad(spec, `unknown option "${parts[i]}" (options: efC, ef)`);
    const v = positiveInt(spec, kv[1], kv[2]);
    if (kv[1] === "efC") {
      if (efConstruction !== undefined || ef !== undefined) throw bad(spec, "efC given twice or after ef");
      efConstruction = v;
    } else {
      if (ef !== undefined) throw bad(spec, "ef given twice");
      ef = v;
    }
  }
  return { kind: "hnsw", m, efConstruction, ef };
}

export function formatSpec(s: IndexSpec): string {
  if (s.kind === "flat") return "Flat";
  let out = `HNSW${s.m}`;
  if (s.efConstruction !== undefined) out += `,efC=${s.efConstruction}`;
  if (s.ef !== undefined) out += `,ef=${s.ef}`;
  return out;
}
