/**
 * L2 normalisation of embedding rows, for cosine scores (spec §5.5.4 "L2正则化": u/‖u‖ · t/‖t‖).
 * Unlike the score transforms this acts on vectors: the trainer normalises encoder outputs before
 * scoring and maps gradients back through the normalisation afterwards.
 *
 *   y = x / ‖x‖   ⇒   ∂L/∂x = (g − y (y·g)) / ‖x‖,   g = ∂L/∂y
 *
 * A zero row stays zero with zero gradient.
 */

/** Normalises n rows of x (dim wide) in place; writes each row's original norm into norms. */
export function normalizeRowsInto(x: Float32Array, n: number, dim: number, norms: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[o + j] * x[o + j];
    const nrm = Math.sqrt(s);
    norms[i] = nrm;
    if (nrm > 0) {
      const inv = 1 / nrm;
      for (let j = 0; j < dim; j++) x[o + j] *= inv;
    }
  }
}

/**
 * Given y (normalised rows), their pre-normalisation norms and g = ∂L/∂y, overwrites g with
 * ∂L/∂x = (g − y(y·g)) / ‖x‖.
 */
export function normalizeRowsBackward(
  y: Float32Array,
  norms: Float32Array,
  n: number,
  dim: number,
  g: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    const nrm = norms[i];
    if (!(nrm > 0)) {
      for (let j = 0; j < dim; j++) g[o + j] = 0;
      continue;
    }
    let yg = 0;
    for (let j = 0; j < dim; j++) yg += y[o + j] * g[o + j];
    const inv = 1 / nrm;
    for (let j = 0; j < dim; j++) g[o + j] = (g[o + j] - y[o + j] * yg) * inv;
  }
}
