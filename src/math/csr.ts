/**
 * Compressed sparse rows: row r's columns are indices[offsets[r] .. offsets[r+1]), sorted
 * ascending and unique after `buildCsr`. Int32 offsets cap a matrix at 2^31 − 1 non-zeros.
 */
export interface Csr {
  readonly nRows: number;
  readonly nCols: number;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  /** Per-entry values; null means every stored entry is 1. */
  readonly values: Float32Array | null;
}

export type Duplicates = "sum" | "max" | "last" | "one";

/**
 * Builds a CSR matrix from COO triples (counting sort by row, then sort within rows).
 * Duplicate (row, col) pairs are merged by `dup` ("one" keeps a binary 1, values = null).
 */
export function buildCsr(
  nRows: number,
  nCols: number,
  rows: Int32Array,
  cols: Int32Array,
  vals: Float32Array | null,
  dup: Duplicates = "sum",
): Csr {
  const nnz = rows.length;
  const counts = new Int32Array(nRows + 1);
  for (let e = 0; e < nnz; e++) {
    const r = rows[e];
    const c = cols[e];
    if (r < 0 || r >= nRows || c < 0 || c >= nCols) {
      throw new RangeError(`buildCsr: entry ${e} (${r}, ${c}) is outside ${nRows}×${nCols}`);
    }
    counts[r + 1]++;
  }
  for (let r = 0; r < nRows; r++) counts[r + 1] += counts[r];
  const pos = counts.slice(0, nRows);
  const idx = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  for (let e = 0; e < nnz; e++) {
    const p = pos[rows[e]]++;
    idx[p] = cols[e];
    val[p] = vals === null ? 1 : vals[e];
  }
  // Sort each row by column and merge duplicates, compacting in place.
  const offsets = new Int32Array(nRows + 1);
  let w = 0;
  let order = new Int32Array(16);
  for (let r = 0; r < nRows; r++) {
    const a = counts[r];
    const b = counts[r + 1];
    const len = b - a;
    offsets[r] = w;
    if (len === 0) continue;
    if (order.length < len) order = new Int32Array(len * 2);
    for (let t = 0; t < len; t++) order[t] = a + t;
    const ord = order.subarray(0, len);
    ord.sort((x, y) => idx[x] - idx[y] || x - y);
    const tmpI = new Int32Array(len);
    const tmpV = new Float64Array(len);
    let m = -1;
    for (let t = 0; t < len; t++) {
      const c = idx[ord[t]];
      const v = val[ord[t]];
      if (m >= 0 && tmpI[m] === c) {
        if (dup === "sum") tmpV[m] += v;
        else if (dup === "max") tmpV[m] = Math.max(tmpV[m], v);
        else if (dup === "last") tmpV[m] = v;
      } else {
        m++;
        tmpI[m] = c;
        tmpV[m] = v;
      }
    }
    for (let t = 0; t <= m; t++) {
      idx[w] = tmpI[t];
      val[w] = tmpV[t];
      w++;
    }
  }
  offsets[nRows] = w;
  const indices = idx.slice(0, w);
  const values = vals === null || dup === "one" ? null : Float32Array.from(val.subarray(0, w));
  return { nRows, nCols, offsets, indices, values };
}

/** Transpose (e.g. user→items into item→users); rows of the result stay sorted. */
export function transposeCsr(a: Csr): Csr {
  const nnz = a.indices.length;
  const offsets = new Int32Array(a.nCols + 1);
  for (let e = 0; e < nnz; e++) offsets[a.indices[e] + 1]++;
  for (let c = 0; c < a.nCols; c++) offsets[c + 1] += offsets[c];
  const pos = offsets.slice(0, a.nCols);
  const indices = new Int32Array(nnz);
  const values = a.values === null ? null : new Float32Array(nnz);
  for (let r = 0; r < a.nRows; r++) {
    for (let e = a.offsets[r]; e < a.offsets[r + 1]; e++) {
      const p = pos[a.indices[e]]++;
      indices[p] = r;
      if (values !== null) values[p] = (a.values as Float32Array)[e];
    }
  }
  return { nRows: a.nCols, nCols: a.nRows, offsets, indices, values };
}

/** Number of stored entries in row r. */
export function rowLength(a: Csr, r: number): number {
  return a.offsets[r + 1] - a.offsets[r];
}

/** Per-column counts of stored entries (item popularity from a user→item matrix). */
export function columnCounts(a: Csr): Int32Array {
  const out = new Int32Array(a.nCols);
  for (let e = 0; e < a.indices.length; e++) out[a.indices[e]]++;
  return out;
}

/** Whether sorted row r contains column c (binary search). */
export function csrHas(a: Csr, r: number, c: number): boolean {
  let lo = a.offsets[r];
  let hi = a.offsets[r + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a.indices[mid];
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
