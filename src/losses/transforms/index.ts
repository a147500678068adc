/** Score transforms applied before a loss (TFRS `layers/loss.py`), plus the cosine normalisation. */
export { accidentalHits } from "./accidental-hits.ts";
export { logQ } from "./log-q.ts";
export { normalizeRowsBackward, normalizeRowsInto } from "./normalize.ts";
export { temperature } from "./temperature.ts";
