/**
 * A generic folder layout for any dataset, and its writer:
 *
 *   interactions.csv  user_id,item_id[,timestamp][,event][,weight][,session_id]   (train, or all)
 *   test.csv          same columns (optional: a fixed test split)
 *   items.csv         item_id,<attr>...,<multi>[]...,stat:<name>...                  (optional)
 *   users.csv         user_id,<attr>...                                              (optional)
 *
 * A header ending in `[]` is a multi-valued attribute, values `|`-separated; `stat:exposures`,
 * `stat:clicks` and other `stat:x` columns are item stats. items.csv/users.csv are the catalogue:
 * their rows are numbered first, in file order, so entities without interactions keep an index.
 */
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { RecallkitError } from "../errors.ts";
import type { AttributeField, Dataset, Interactions, ItemStats } from "../types.ts";
import { AttributeBuilder, itemStats } from "./attributes.ts";
import { IdMap } from "./id-map.ts";
import type { ColumnMapping, LoadedDataset, ReadReport } from "./ingest.ts";
import { sortIdMap } from "./interactions.ts";
import { readDelimited } from "./readers.ts";
import { readHeader, readSideFile } from "./side-files.ts";
import { csvField } from "./text.ts";

export interface CsvDatasetOptions {
  /** Column mapping of interactions.csv/test.csv (default: user_id, item_id and whichever of
   * timestamp, event, weight, session_id the header has). */
  readonly columns?: ColumnMapping;
  /** Interaction file names (default "interactions.csv" and "test.csv"). */
  readonly trainFile?: string;
  readonly testFile?: string;
  /** Field separator of every file (default ","). */
  readonly delimiter?: string;
  /** Separator inside multi-valued attribute cells (default "|"). */
  readonly multiDelimiter?: string;
  /** Unit of numeric timestamps (default "s"). */
  readonly tsUnit?: "s" | "ms";
  readonly skipBadRows?: boolean;
  readonly name?: string;
}

const DEFAULT_OPTIONAL: readonly (readonly [keyof ColumnMapping, string])[] = [
  ["ts", "timestamp"],
  ["event", "event"],
  ["weight", "weight"],
  ["session", "session_id"],
];

/**
 * Loads the generic layout above.
 * @example const ds = await loadCsvDataset("my-data", { columns: { user: "uid", item: "sku", ts: "time" } });
 */
export async function loadCsvDataset(dir: string, opts: CsvDatasetOptions = {}): Promise<LoadedDataset> {
  const delimiter = opts.delimiter ?? ",";
  const multiDelim = opts.multiDelimiter ?? "|";
  const skip = opts.skipBadRows === true;
  const trainFile = join(dir, opts.trainFile ?? "interactions.csv");
  if (!existsSync(trainFile)) {
    throw new RecallkitError(
      "RK_ERR_DATASET_UNKNOWN",
      `${trainFile} not found: a CSV dataset folder holds interactions.csv`,
    );
  }
  const reports: (ReadReport & { file: string })[] = [];
  const users = new IdMap();
  const items = new IdMap();
  const itemSide = await readEntityFile(
    join(dir, "items.csv"),
    "item_id",
    items,
    delimiter,
    multiDelim,
    skip,
  );
  const userSide = await readEntityFile(
    join(dir, "users.csv"),
    "user_id",
    users,
    delimiter,
    multiDelim,
    skip,
  );
  if (itemSide !== null) reports.push(itemSide.report);
  if (userSide !== null) reports.push(userSide.report);

  let columns = opts.columns;
  if (columns === undefined) {
    const head = readHeader(trainFile, delimiter);
    const m: Record<string, string> = { user: "user_id", item: "item_id" };
    for (const [role, col] of DEFAULT_OPTIONAL) if (head.includes(col)) m[role] = col;
    columns = m as unknown as ColumnMapping;
  }
  const eventNames = new IdMap();
  const sessionIds = new IdMap();
  const common = {
    columns,
    delimiter,
    skipBadRows: skip,
    users,
    items,
    eventNames,
    sessionIds,
    ...(opts.tsUnit ? { tsUnit: opts.tsUnit } : {}),
  };
  const train = await readDelimited(trainFile, common);
  reports.push({ file: trainFile, ...strip(train) });
  const testFile = join(dir, opts.testFile ?? "test.csv");
  let test: Interactions | null = null;
  if (existsSync(testFile)) {
    const r = await readDelimited(testFile, common);
    reports.push({ file: testFile, ...strip(r) });
    test = r.log;
  }
  // Both logs share one event vocabulary: give each the final list.
  // Session ids are renumbered in sorted id order over both logs (dense ints written by
  // writeCsvDataset come back unchanged, even for sessions that occur only in test.csv).
  const sessionCols = [train.log.sessions, test?.sessions].filter((c): c is Int32Array => c != null);
  if (sessionCols.length > 0) sortIdMap(sessionIds, sessionCols);
  const fixEvents = (l: Interactions): Interactions =>
    l.events === null ? l : { ...l, eventNames: eventNames.ids().slice() };
  return {
    name: opts.name ?? basename(resolve(dir)),
    users,
    items,
    train: fixEvents(train.log),
    test: test === null ? null : fixEvents(test),
    itemAttributes: new Map((itemSide?.fields ?? []).map((f) => [f.name, f.build(items.size)])),
    userAttributes: new Map((userSide?.fields ?? []).map((f) => [f.name, f.build(users.size)])),
    itemStats: itemSide === null ? null : itemSide.stats(items.size),
    report: { files: reports },
  };
}

function strip(r: ReadReport): ReadReport {
  return { rows: r.rows, skipped: r.skipped, filtered: r.filtered, firstErrors: r.firstErrors };
}

async function readEntityFile(
  file: string,
  idColumn: string,
  ids: IdMap,
  delimiter: string,
  multiDelim: string,
  skip: boolean,
): Promise<{
  report: ReadReport & { file: string };
  fields: AttributeBuilder[];
  stats: (n: number) => ItemStats | null;
} | null> {
  if (!existsSync(file)) return null;
  const head = readHeader(file, delimiter);
  const idCol = head.indexOf(idColumn);
  if (idCol < 0) {
    throw new RecallkitError(
      "RK_ERR_DATA_MISSING_COLUMN",
      `${file}: column "${idColumn}" not found; header has: ${head.join(", ")}`,
    );
  }
  const attrCols: number[] = [];
  const fields: AttributeBuilder[] = [];
  const statCols: number[] = [];
  const statNames: string[] = [];
  for (let k = 0; k < head.length; k++) {
    if (k === idCol) continue;
    const h = head[k];
    if (h.startsWith("stat:")) {
      statCols.push(k);
      statNames.push(h.slice(5));
    } else {
      attrCols.push(k);
      fields.push(
        h.endsWith("[]") ? new AttributeBuilder(h.slice(0, -2), true) : new AttributeBuilder(h, false),
      );
    }
  }
  const statVals: number[][] = statNames.map(() => []);
  const report = await readSideFile(
    file,
    { delimiter, header: true, minFields: head.length, skipBadRows: skip },
    (f, line) => {
      const stats = statCols.map((c) => {
        const v = Number(f[c]);
        if (f[c] !== "" && !Number.isFinite(v)) {
          throw new RecallkitError(
            "RK_ERR_DATA_PARSE",
            `${file}:${line}: field "${head[c]}": ${JSON.stringify(f[c])} is not a number`,
          );
        }
        return f[c] === "" ? 0 : v;
      });
      const e = ids.add(f[idCol]);
      for (let s = 0; s < stats.length; s++) statVals[s][e] = stats[s];
      for (let a = 0; a < attrCols.length; a++) {
        const cell = f[attrCols[a]];
        if (cell === "") continue;
        if (fields[a].multi) for (const v of cell.split(multiDelim)) fields[a].add(e, v);
        else fields[a].add(e, cell);
      }
    },
  );
  return {
    report,
    fields,
    stats: (n) => {
      if (statNames.length === 0) return null;
      const cols = new Map<string, Float64Array>();
      statNames.forEach((name, s) => {
        const a = new Float64Array(n);
        statVals[s].forEach((v, i) => {
          a[i] = v;
        });
        cols.set(name, a);
      });
      const exposures = cols.get("exposures") ?? null;
      const clicks = cols.get("clicks") ?? null;
      cols.delete("exposures");
      cols.delete("clicks");
      return itemStats(n, { exposures, clicks, columns: cols });
    },
  };
}

/** Buffered line writer: 64 KiB chunks written synchronously as they fill (streaming, bounded memory). */
function writeLines(file: string, fill: (push: (line: string) => void) => void): Promise<void> {
  const fd = openSync(file, "w");
  try {
    let buf: string[] = [];
    let size = 0;
    fill((line) => {
      buf.push(line);
      size += line.length + 1;
      if (size > 1 << 16) {
        writeSync(fd, `${buf.join("\n")}\n`);
        buf = [];
        size = 0;
      }
    });
    if (buf.length > 0) writeSync(fd, `${buf.join("\n")}\n`);
  } finally {
    closeSync(fd);
  }
  return Promise.resolve();
}

function writeLog(file: string, log: Interactions, ds: Dataset): Promise<void> {
  return writeLines(file, (push) => {
    const head = ["user_id", "item_id"];
    if (log.ts !== null) head.push("timestamp");
    if (log.events !== null) head.push("event");
    if (log.weights !== null) head.push("weight");
    if (log.sessions !== null) head.push("session_id");
    push(head.join(","));
    const uid = ds.users.ids().map((s) => csvField(s));
    const iid = ds.items.ids().map((s) => csvField(s));
    const ev = log.eventNames.map((s) => csvField(s));
    for (let e = 0; e < log.length; e++) {
      let line = `${uid[log.users[e]]},${iid[log.items[e]]}`;
      if (log.ts !== null) line += `,${log.ts[e]}`;
      if (log.events !== null) line += `,${ev[log.events[e]]}`;
      if (log.weights !== null) line += `,${log.weights[e]}`;
      if (log.sessions !== null) line += `,${log.sessions[e]}`;
      push(line);
    }
  });
}

function writeEntities(
  file: string,
  idColumn: string,
  ids: IdMap,
  attrs: readonly AttributeField[],
  stats: ItemStats | null,
): Promise<void> {
  const statCols: [string, Float64Array][] = [];
  if (stats !== null) {
    if (stats.exposures !== null) statCols.push(["exposures", stats.exposures]);
    if (stats.clicks !== null) statCols.push(["clicks", stats.clicks]);
    for (const [k, v] of stats.columns) statCols.push([k, v]);
  }
  return writeLines(file, (push) => {
    push(
      [
        idColumn,
        ...attrs.map((f) => csvField(f.multi ? `${f.name}[]` : f.name)),
        ...statCols.map(([k]) => csvField(`stat:${k}`)),
      ].join(","),
    );
    for (let e = 0; e < ids.size; e++) {
      const cells = [csvField(ids.id(e))];
      for (const f of attrs) {
        const vals: string[] = [];
        for (let p = f.csr.offsets[e]; p < f.csr.offsets[e + 1]; p++) vals.push(f.vocab.id(f.csr.indices[p]));
        cells.push(csvField(vals.join("|")));
      }
      for (const [, v] of statCols) cells.push(String(v[e]));
      push(cells.join(","));
    }
  });
}

/**
 * Writes any dataset in the generic layout (`loadCsvDataset` reads it back to the same ids,
 * rows, events, sessions, attribute values and stats). Multi-valued attribute values must not
 * contain "|". Creates `dir` if needed.
 */
export async function writeCsvDataset(ds: Dataset, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeLog(join(dir, "interactions.csv"), ds.train, ds);
  if (ds.test !== null) await writeLog(join(dir, "test.csv"), ds.test, ds);
  await writeEntities(
    join(dir, "items.csv"),
    "item_id",
    ds.items,
    [...ds.itemAttributes.values()],
    ds.itemStats,
  );
  await writeEntities(join(dir, "users.csv"), "user_id", ds.users, [...ds.userAttributes.values()], null);
}

/** `writeCsvDataset` under the name the synthetic workflow uses. */
export const writeSynthetic: (ds: Dataset, dir: string) => Promise<void> = writeCsvDataset;
