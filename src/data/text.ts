/**
 * Streaming text primitives: a chunked line reader (never the whole file in memory) and a
 * delimited-field splitter with RFC 4180 quotes.
 */
import { createReadStream } from "node:fs";

export type TextEncoding = "utf8" | "latin1";

/**
 * Calls `onLine(line, lineNo)` for every line of `file` (1-based numbers, `\r\n` and `\n`
 * endings, a leading UTF-8 BOM dropped). Reads 1 MiB chunks; a throw from `onLine` stops the
 * read and propagates. Returns the number of lines.
 */
export async function forEachLine(
  file: string,
  encoding: TextEncoding,
  onLine: (line: string, lineNo: number) => void,
): Promise<number> {
  const stream = createReadStream(file, { encoding, highWaterMark: 1 << 20 });
  let carry = "";
  let lineNo = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = carry.length > 0 ? carry + chunk : chunk;
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(text.slice(start, end), ++lineNo);
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  if (carry.length > 0) {
    const end = carry.charCodeAt(carry.length - 1) === 13 ? carry.length - 1 : carry.length;
    onLine(carry.slice(0, end), ++lineNo);
  }
  return lineNo;
}

/**
 * Splits one line on `delim` (any length), honouring `"`-quoted fields with `""` escapes.
 * Returns null when a quote is left open (the record continues on the next line: join with
 * "\n" and split again). Lines without quotes take the native `split` fast path.
 */
export function splitFields(line: string, delim: string): string[] | null {
  if (line.indexOf('"') < 0) return line.split(delim);
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34 /* " */) {
      let v = "";
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return null;
        v += line.slice(j, q);
        if (line.charCodeAt(q + 1) === 34) {
          v += '"';
          j = q + 2;
        } else {
          j = q + 1;
          break;
        }
      }
      // Text between the closing quote and the delimiter is kept (lenient, like most readers).
      const d = line.indexOf(delim, j);
      out.push(d < 0 ? v + line.slice(j) : v + line.slice(j, d));
      if (d < 0) return out;
      i = d + delim.length;
    } else {
      const d = line.indexOf(delim, i);
      if (d < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, d));
      i = d + delim.length;
    }
    if (i >= n) {
      out.push("");
      return out;
    }
  }
}

/** Quotes a CSV field when it holds the delimiter, a quote or a line break. */
export function csvField(s: string, delim = ","): string {
  if (s.includes(delim) || s.includes('"') || s.includes("\n") || s.includes("\r")) {
    return `"${s.replaceAll('"', '""')}"`;
  }
  return s;
}
