/** Dense float64 oracle for spectral.ts tests: R̃ᵀR̃ (nItems × nItems) and the item degrees. */
export function denseNormalizedGram(
  users: ArrayLike<number>,
  items: ArrayLike<number>,
  nUsers: number,
  nItems: number,
): { p: Float64Array; di: number[] } {
  const r = Array.from({ length: nUsers }, () => new Float64Array(nItems));
  for (let e = 0; e < users.length; e++) r[users[e]][items[e]] = 1;
  const du = r.map((row) => row.reduce((s, x) => s + x, 0));
  const di = Array.from({ length: nItems }, (_, i) => r.reduce((s, row) => s + row[i], 0));
  const p = new Float64Array(nItems * nItems);
  for (let u = 0; u < nUsers; u++)
    for (let i = 0; i < nItems; i++)
      for (let j = 0; j < nItems; j++)
        if (r[u][i] && r[u][j]) p[i * nItems + j] += 1 / (du[u] * Math.sqrt(di[i] * di[j]));
  return { p, di };
}
