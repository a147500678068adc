/**
 * Down-sampling of popular positives (spec §5.4.1, eq. 5-21; word2vec's sub-sampling of frequent
 * words): an occurrence of item t is kept with P_keep(t) = min(1, √(α / f(t))), f(t) = the
 * item's share of all positive occurrences. α is the share under which an item is always kept.
 */
export function keepProbabilities(counts: Float64Array, alpha: number): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const keep = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const f = counts[i] / total;
    keep[i] = f > 0 ? Math.min(1, Math.sqrt(alpha / f)) : 1;
  }
  return keep;
}
