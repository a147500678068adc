/** Small helpers for loaders' side files (item/user tables): delimited rows with a minimum width. */
import { closeSync, openSync, readSync } from "node:fs";
import { RecallkitError } from "../errors.ts";
import type { ReadReport } from "./ingest.ts";
import { forEachLine, splitFields, type TextEncoding } from "./text.ts";

export interface SideFileOptions {
  readonly encoding?: TextEncoding;
  readonly delimiter: string;
  readonly header: boolean;
  /** Rows with fewer fields are bad rows. */
  readonly minFields: number;
  readonly skipBadRows?: boolean;
  readonly displayName?: string;
}

/**
 * Streams a side file, calling `onRow(fields, line)` for each data row .
 * A short row, or RK_ERR_DATA_PARSE thrown by `onRow`, is counted under `skipBadRows` and thrown
 * otherwise; no data rows at all is RK_ERR_DATA_EMPTY.
 * Returns the report.
 */
export async function readSideFile(
  file: string,
  opts: SideFileOptions,
  onRow: (f: string[], line: number) => void,
): Promise<ReadReport & { file: string }> {
  const name = opts.displayName ?? file;
  let headerSeen = !opts.header;
  let rows = 0;
  let skipped = 0;
  const firstErrors: string[] = [];
  let pending = "";
  let pendingLine = 0;
  await forEachLine(file, opts.encoding ?? "utf8", (raw, lineNo) => {
    const line = pendingLine > 0 ? `${pending}\n${raw}` : raw;
    const at = pendingLine > 0 ? pendingLine : lineNo;
    if (line.length === 0) return;
    const f = splitFields(line, opts.delimiter);
    if (f === null) {
      pending = line;
      pendingLine = at;
      return;
    }
    pendingLine = 0;
    if (!headerSeen) {
      headerSeen = true;
      return;
    }
    rows++;
    if (f.length < opts.minFields) {
      const msg = `${name}:${at}: row has ${f.length} fields, ${opts.minFields} needed (delimiter ${JSON.stringify(opts.delimiter)})`;
      if (opts.skipBadRows !== true) throw new RecallkitError("RK_ERR_DATA_PARSE", msg);
      skipped++;
      if (firstErrors.length < 10) firstErrors.push(msg);
      return;
    }
    try {
      onRow(f, at);
    } catch (err) {
      if (opts.skipBadRows !== true || !(err instanceof RecallkitError) || err.code !== "RK_ERR_DATA_PARSE")
        throw err;
      skipped++;
      if (firstErrors.length < 10) firstErrors.push(err.message);
    }
  });
  if (rows === 0) throw new RecallkitError("RK_ERR_DATA_EMPTY", `${name}: holds no data rows`);
  return { file: name, rows, skipped, filtered: 0, firstErrors };
}

/** The header line of a delimited file, split (reads only the first 64 KiB). */
export function readHeader(file: string, delimiter: string, encoding: TextEncoding = "utf8"): string[] {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let text = buf.toString(encoding, 0, n);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const nl = text.indexOf("\n");
    const line = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, "");
    return (splitFields(line, delimiter) ?? [line]).map((s) => s.trim());
  } finally {
    closeSync(fd);
  }
}
