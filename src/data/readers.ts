/**
 * Streaming interaction readers: delimited text (CSV/TSV/any delimiter, quoted fields, header or
 * not), JSONL, and Parquet (through hyparquet). Each returns a columnar `Interactions` plus id maps
 * and a bad-row report; errors carry `file:line` and the field.
 */
import { extname } from "node:path";
import { assert, RecallkitError } from "../errors.ts";
import {
  type ColumnMapping,
  type ColumnRef,
  Ingest,
  type IngestOptions,
  type RawValue,
  type ReadResult,
  ROLES,
  type Role,
} from "./ingest.ts";
import { readParquetInteractions } from "./parquet.ts";
import { forEachLine, splitFields, type TextEncoding } from "./text.ts";

export type { ColumnMapping, ColumnRef, IngestOptions, ReadReport, ReadResult } from "./ingest.ts";

export type InputFormat = "csv" | "tsv" | "jsonl" | "parquet";

export interface ReadOptions extends IngestOptions {
  /** Which columns hold user, item, ts, event, weight, session. */
  readonly columns: ColumnMapping;
  /** Default from the extension: .tsv/.tab → tsv, .jsonl/.ndjson/.json → jsonl, .parquet, else csv. */
  readonly format?: InputFormat;
  /** Field separator of any length (default "," for .csv, "\t" for tsv, else sniffed from line 1
   * among tab, "::", ",", ";", "|", space). */
  readonly delimiter?: string;
  /** Whether line 1 is a header (default true; must be false to use index refs only). */
  readonly header?: boolean;
  /** Text encoding (default "utf8"; MovieLens 100k/1M are "latin1"). */
  readonly encoding?: TextEncoding;
  /** Name used in messages (default the path as given). */
  readonly displayName?: string;
}

/**
 * Reads one interaction file, streaming.
 * @example
 * const { log, users, items } = await readInteractions("data/x.csv",
 *   { columns: { user: "userId", item: "movieId", weight: "rating", ts: "timestamp" } });
 */
export async function readInteractions(file: string, opts: ReadOptions): Promise<ReadResult> {
  const format = opts.format ?? formatOf(file);
  if (format === "parquet") return readParquetInteractions(file, opts);
  if (format === "jsonl") return readJsonl(file, opts);
  return readDelimited(file, { ...opts, delimiter: opts.delimiter ?? (format === "tsv" ? "\t" : undefined) });
}

export function formatOf(file: string): InputFormat {
  const ext = extname(file).toLowerCase();
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  if (ext === ".jsonl" || ext === ".ndjson" || ext === ".json") return "jsonl";
  if (ext === ".parquet" || ext === ".pq") return "parquet";
  return "csv";
}

function hasRoles(m: ColumnMapping): Record<Role, boolean> {
  return {
    user: true,
    item: true,
    ts: m.ts !== undefined,
    event: m.event !== undefined,
    weight: m.weight !== undefined,
    session: m.session !== undefined,
  };
}

function displayNames(m: ColumnMapping): Partial<Record<Role, string>> {
  const out: Partial<Record<Role, string>> = {};
  for (const r of ROLES) {
    const ref = m[r];
    if (typeof ref === "string") out[r] = ref;
  }
  return out;
}

const SNIFF = ["\t", "::", ",", ";", "|", " "];

/** CSV/TSV/any delimiter. Quoted fields may span lines. */
export async function readDelimited(
  file: string,
  opts: Omit<ReadOptions, "delimiter"> & { readonly delimiter?: string | undefined },
): Promise<ReadResult> {
  const name = opts.displayName ?? file;
  const m = opts.columns;
  const header = opts.header ?? true;
  let delim = opts.delimiter ?? (extname(file).toLowerCase() === ".csv" ? "," : "");
  const ing = new Ingest(name, hasRoles(m), opts, displayNames(m));
  // Column index per role (−1: not mapped); resolved from the header or the numeric refs.
  const idx = new Int32Array(6).fill(-1);
  let need = 0;
  const resolveRefs = (head: readonly string[] | null) => {
    for (let r = 0; r < 6; r++) {
      const ref: ColumnRef | undefined = m[ROLES[r]];
      if (ref === undefined) continue;
      if (typeof ref === "number") {
        assert(
          Number.isInteger(ref) && ref >= 0,
          () => `${name}: column index ${ref} for "${ROLES[r]}" must be an integer ≥ 0`,
        );
        idx[r] = ref;
      } else {
        if (head === null) {
          throw new RecallkitError(
            "RK_ERR_INVALID_ARGUMENT",
            `${name}: column "${ref}" is named but the file is read without a header; use a 0-based index or header: true`,
          );
        }
        const k = head.indexOf(ref);
        if (k < 0) {
          throw new RecallkitError(
            "RK_ERR_DATA_MISSING_COLUMN",
            `${name}: column "${ref}" (${ROLES[r]}) not found; header has: ${head.join(", ")}`,
          );
        }
        idx[r] = k;
      }
      need = Math.max(need, idx[r] + 1);
    }
  };
  if (!header) resolveRefs(null);
  let headerSeen = !header;
  let pending = "";
  let pendingLine = 0;
  await forEachLine(file, opts.encoding ?? "utf8", (raw, lineNo) => {
    let line = raw;
    let at = lineNo;
    if (pendingLine > 0) {
      line = `${pending}\n${raw}`;
      at = pendingLine;
    } else if (raw.length === 0) return;
    if (delim === "") delim = SNIFF.find((d) => line.includes(d)) ?? ",";
    const f = splitFields(line, delim);
    if (f === null) {
      pending = line;
      pendingLine = at;
      return;
    }
    pendingLine = 0;
    if (!headerSeen) {
      headerSeen = true;
      resolveRefs(f.map((s) => s.trim()));
      return;
    }
    if (f.length < need) {
      ing.rows++;
      ing.fail(
        ing.rowError(at, `row has ${f.length} fields, ${need} needed (delimiter ${JSON.stringify(delim)})`),
      );
      return;
    }
    ing.row(
      at,
      f[idx[0]],
      f[idx[1]],
      idx[2] < 0 ? undefined : f[idx[2]],
      idx[3] < 0 ? undefined : f[idx[3]],
      idx[4] < 0 ? undefined : f[idx[4]],
      idx[5] < 0 ? undefined : f[idx[5]],
    );
  });
  if (pendingLine > 0) {
    ing.rows++;
    ing.fail(ing.rowError(pendingLine, "quoted field is never closed"));
  }
  return ing.finish();
}

/** One JSON object per line; mapping refs are keys (numbers are used as keys too). */
export async function readJsonl(file: string, opts: ReadOptions): Promise<ReadResult> {
  const name = opts.displayName ?? file;
  const m = opts.columns;
  const ing = new Ingest(name, hasRoles(m), opts, displayNames(m));
  const keys = ROLES.map((r) => (m[r] === undefined ? null : String(m[r])));
  let checked = false;
  await forEachLine(file, opts.encoding ?? "utf8", (line, lineNo) => {
    if (line.trim().length === 0) return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (err) {
      ing.rows++;
      ing.fail(ing.rowError(lineNo, `not valid JSON (${(err as Error).message})`));
      return;
    }
    if (o === null || typeof o !== "object" || Array.isArray(o)) {
      ing.rows++;
      ing.fail(ing.rowError(lineNo, "expected a JSON object"));
      return;
    }
    const rec = o as Record<string, RawValue>;
    if (!checked) {
      // The first record stands in for a header: a declared key absent there is a missing column.
      checked = true;
      for (let r = 0; r < 6; r++) {
        const k = keys[r];
        if (k !== null && !(k in rec)) {
          throw new RecallkitError(
            "RK_ERR_DATA_MISSING_COLUMN",
            `${name}:${lineNo}: key "${k}" (${ROLES[r]}) not found; the first record has: ${Object.keys(rec).join(", ")}`,
          );
        }
      }
    }
    ing.row(
      lineNo,
      rec[keys[0] as string],
      rec[keys[1] as string],
      keys[2] === null ? undefined : rec[keys[2]],
      keys[3] === null ? undefined : rec[keys[3]],
      keys[4] === null ? undefined : rec[keys[4]],
      keys[5] === null ? undefined : rec[keys[5]],
    );
  });
  return ing.finish();
}
