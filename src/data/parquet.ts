/**
 * Parquet interactions through hyparquet: reads only the mapped columns, chunk by chunk
 * (`onChunk`), then feeds rows to the shared ingest. Error "lines" are 1-based row numbers.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from "hyparquet";
import { RecallkitError } from "../errors.ts";
import type { ColumnMapping } from "./ingest.ts";
import { Ingest, type IngestOptions, type RawValue, type ReadResult, ROLES, type Role } from "./ingest.ts";

export async function readParquetInteractions(
  file: string,
  opts: IngestOptions & { readonly columns: ColumnMapping; readonly displayName?: string },
): Promise<ReadResult> {
  const name = opts.displayName ?? file;
  const buf = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buf);
  const root = metadata.schema[0];
  const top: string[] = [];
  // Top-level column names: walk the flattened schema tree, skipping nested children.
  let k = 1;
  const skipChildren = (n: number) => {
    for (let c = 0; c < n; c++) {
      const el = metadata.schema[k++];
      if (el?.num_children) skipChildren(el.num_children);
    }
  };
  for (let c = 0; c < (root?.num_children ?? 0); c++) {
    const el = metadata.schema[k++];
    if (el === undefined) break;
    top.push(el.name);
    if (el.num_children) skipChildren(el.num_children);
  }
  const has = {} as Record<Role, boolean>;
  const names: Partial<Record<Role, string>> = {};
  const cols: (string | null)[] = [];
  for (const r of ROLES) {
    const ref = opts.columns[r];
    has[r] = ref !== undefined;
    if (ref === undefined) {
      cols.push(null);
      continue;
    }
    const col = typeof ref === "number" ? top[ref] : ref;
    if (col === undefined || !top.includes(col)) {
      throw new RecallkitError(
        "RK_ERR_DATA_MISSING_COLUMN",
        `${name}: column ${JSON.stringify(ref)} (${r}) not found; schema has: ${top.join(", ")}`,
      );
    }
    names[r] = col;
    cols.push(col);
  }
  const ing = new Ingest(name, has, opts, names);
  const nRows = Number(metadata.num_rows);
  if (nRows === 0) return ing.finish();
  const wanted = [...new Set(cols.filter((c): c is string => c !== null))];
  const data = new Map<string, RawValue[]>();
  for (const c of wanted) data.set(c, new Array<RawValue>(nRows));
  await parquetRead({
    file: buf,
    metadata,
    columns: wanted,
    onChunk: (chunk) => {
      const out = data.get(chunk.columnName);
      if (out === undefined) return;
      const src = chunk.columnData as ArrayLike<RawValue>;
      const end = Math.min(chunk.rowEnd, nRows);
      for (let r = chunk.rowStart; r < end; r++) out[r] = src[r - chunk.rowStart];
    },
  });
  const get = (c: string | null | undefined): RawValue[] | null => (c == null ? null : (data.get(c) ?? null));
  const [u, i, t, ev, w, s] = cols.map(get);
  for (let r = 0; r < nRows; r++) {
    ing.row(
      r + 1,
      (u as RawValue[])[r],
      (i as RawValue[])[r],
      t === null ? undefined : t[r],
      ev === null ? undefined : ev[r],
      w === null ? undefined : w[r],
      s === null ? undefined : s[r],
    );
  }
  return ing.finish();
}
