/**
 * Skip-gram with negative sampling over token sequences, the way word2vec's C code and gensim's
 * `word2vec_inner.pyx` run it (Item2Vec §5.3.1, Airbnb 5-17/5-18): one pass per sequence,
 * frequent tokens dropped with P_keep (§5.4.1, 5-21), a random window b ∈ [1, window] per
 * center, and for each (input, output) pair one NEG step (5-16):
 *
 *   f = v_in · c_out;  g = (label − σ(f)) · lr          (label 1 for the positive, 0 for negatives)
 *   e   += g · c_out                                     (the input's gradient, applied after all)
 *   c_out += g · v_in
 *   v_in  += e                                           (after the positive and every negative)
 *
 * v = `syn0` (input table, the served vectors), c = `syn1` (word2vec's syn1neg). Negatives come
 * from an alias table over F(t)^b (5-22). Airbnb extras, all optional:
 * - `globalCtx[s]`: the converted token of sequence s, an extra positive output for every input
 *   of that sequence (5-17, l_b);
 * - `market`: token → group, with group members in a CSR; `nMarket` negatives per pair drawn from
 *   the positive output's group (5-17, same-market negatives);
 * - `hardOffsets/hardItems`: per-sequence hard negatives (rejections, 5-18), `nHard` drawn per pair;
 * - `outputFrom` > 0: only pairs with input < outputFrom ≤ output (user types → listing types).
 *
 * The learning rate decays linearly from `alpha` to `minAlpha` over all epochs, by the share of
 * the worker's slice done (word2vec uses a global word counter; the slices run side by side, so
 * each slice's own progress is the same schedule without a shared counter).
 */
import type { AliasTable } from "../math/alias.ts";
import type { Rng } from "../math/rng.ts";

export const MAX_EXP = 6;
export const EXP_TABLE_SIZE = 1000;

/** σ(x) on [−MAX_EXP, MAX_EXP) in EXP_TABLE_SIZE steps (word2vec's expTable). */
export function sigmoidTable(): Float32Array {
  const t = new Float32Array(EXP_TABLE_SIZE);
  for (let i = 0; i < EXP_TABLE_SIZE; i++) {
    const e = Math.exp(((i / EXP_TABLE_SIZE) * 2 - 1) * MAX_EXP);
    t[i] = e / (e + 1);
  }
  return t;
}

/** The read-only corpus and sampling data a kernel run needs (shareable across threads). */
export interface SgnsCorpus {
  readonly offsets: Int32Array;
  readonly tokens: Int32Array;
  /** Per-token keep probability (1 = always), or null: no subsampling. */
  readonly keep: Float32Array | null;
  readonly globalCtx: Int32Array | null;
  readonly market: Int32Array | null;
  readonly marketOffsets: Int32Array | null;
  readonly marketItems: Int32Array | null;
  readonly hardOffsets: Int32Array | null;
  readonly hardItems: Int32Array | null;
}

export interface SgnsConfig {
  readonly dim: number;
  readonly window: number;
  readonly negative: number;
  readonly nMarket: number;
  readonly nHard: number;
  readonly outputFrom: number;
  readonly alpha: number;
  readonly minAlpha: number;
  readonly epochs: number;
}

/** Scratch owned by one thread: the kept tokens of a sequence and the input gradient. */
export class SgnsScratch {
  readonly kept: Int32Array;
  readonly neu1e: Float64Array;
  readonly input: Float64Array;
  readonly targets: Int32Array;
  readonly expTable = sigmoidTable();
  constructor(maxLen: number, dim: number, maxTargets = 4096) {
    this.kept = new Int32Array(maxLen);
    this.neu1e = new Float64Array(dim);
    this.input = new Float64Array(dim);
    this.targets = new Int32Array(maxTargets);
  }
}

/** Longest sequence (scratch size). */
export function maxSequenceLength(offsets: Int32Array): number {
  let m = 0;
  for (let s = 0; s + 1 < offsets.length; s++) m = Math.max(m, offsets[s + 1] - offsets[s]);
  return m;
}

/**
 * Trains on sequences order[from..to) of one epoch; returns the effective (kept) tokens seen.
 * `wordsBefore`/`wordsTotal` place the slice on the lr schedule (raw tokens).
 */
export function sgnsRange(
  syn0: Float32Array,
  syn1: Float32Array,
  c: SgnsCorpus,
  cfg: SgnsConfig,
  alias: AliasTable,
  order: Int32Array,
  from: number,
  to: number,
  epoch: number,
  sliceWords: number,
  rng: Rng,
  sc: SgnsScratch,
): number {
  const { offsets, tokens, keep, globalCtx, market, marketOffsets, marketItems, hardOffsets, hardItems } = c;
  const { dim, window, negative, nMarket, nHard, outputFrom, alpha, minAlpha, epochs } = cfg;
  const kept = sc.kept;
  const e = sc.neu1e;
  const h = sc.input;
  const tgt = sc.targets;
  const exp = sc.expTable;
  let raw = 0;
  let effective = 0;
  let lr = alpha;
  const span = Math.max(1, sliceWords * epochs);
  for (let p = from; p < to; p++) {
    const s = order[p];
    const a = offsets[s];
    const b = offsets[s + 1];
    raw += b - a;
    lr = alpha - (alpha - minAlpha) * ((epoch * sliceWords + raw) / span);
    if (lr < minAlpha) lr = minAlpha;
    let len = 0;
    for (let k = a; k < b; k++) {
      const t = tokens[k];
      if (keep !== null && keep[t] < 1 && rng.next() >= keep[t]) continue;
      kept[len++] = t;
    }
    effective += len;
    const gc = globalCtx === null ? -1 : globalCtx[s];
    const ho = hardOffsets === null ? 0 : hardOffsets[s];
    const hn = hardOffsets === null ? 0 : hardOffsets[s + 1] - ho;
    for (let i = 0; i < len; i++) {
      const out = kept[i];
      // word2vec: reduced window b = window − (random % window), so b ∈ [1, window]
      const bw = 1 + Math.floor(rng.next() * window);
      const lo = Math.max(i - bw, 0);
      const hi = i + bw >= len ? len - 1 : i + bw;
      // j = hi + 1 is the extra global-context pair (input = out, output = gc)
      const last = gc >= 0 && out !== gc ? hi + 1 : hi;
      for (let j = lo; j <= last; j++) {
        if (j === i) continue;
        const inp = j > hi ? out : kept[j];
        const o = j > hi ? gc : out;
        if (outputFrom > 0 && (inp >= outputFrom || o < outputFrom)) continue;
        // targets: the positive first, then random, hard and same-market negatives
        let nT = 0;
        tgt[nT++] = o;
        for (let k = 0; k < negative; k++) {
          const t = alias.sample(rng);
          if (t !== o) tgt[nT++] = t;
        }
        if (hn > 0)
          for (let k = 0; k < nHard; k++) {
            const t = (hardItems as Int32Array)[ho + Math.floor(rng.next() * hn)];
            if (t !== o) tgt[nT++] = t;
          }
        if (nMarket > 0 && market !== null) {
          const m = market[o];
          if (m >= 0) {
            const mo = (marketOffsets as Int32Array)[m];
            const mn = (marketOffsets as Int32Array)[m + 1] - mo;
            for (let k = 0; k < nMarket && mn > 1; k++) {
              const t = (marketItems as Int32Array)[mo + Math.floor(rng.next() * mn)];
              if (t !== o) tgt[nT++] = t;
            }
          }
        }
        const ri = inp * dim;
        for (let j = 0; j < dim; j++) {
          h[j] = syn0[ri + j];
          e[j] = 0;
        }
        for (let q = 0; q < nT; q++) {
          const ro = tgt[q] * dim;
          // dim is a multiple of 4 (checked at the edge): four partial sums for ILP
          let f0 = 0;
          let f1 = 0;
          let f2 = 0;
          let f3 = 0;
          for (let j = 0; j < dim; j += 4) {
            f0 += h[j] * syn1[ro + j];
            f1 += h[j + 1] * syn1[ro + j + 1];
            f2 += h[j + 2] * syn1[ro + j + 2];
            f3 += h[j + 3] * syn1[ro + j + 3];
          }
          const f = f0 + f1 + f2 + f3;
          let sg: number;
          if (f >= MAX_EXP) sg = 1;
          else if (f <= -MAX_EXP) sg = 0;
          else sg = exp[((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2)) | 0];
          const g = ((q === 0 ? 1 : 0) - sg) * lr;
          if (g === 0) continue;
          for (let j = 0; j < dim; j += 4) {
            const c0 = syn1[ro + j];
            const c1 = syn1[ro + j + 1];
            const c2 = syn1[ro + j + 2];
            const c3 = syn1[ro + j + 3];
            e[j] += g * c0;
            e[j + 1] += g * c1;
            e[j + 2] += g * c2;
            e[j + 3] += g * c3;
            syn1[ro + j] = c0 + g * h[j];
            syn1[ro + j + 1] = c1 + g * h[j + 1];
            syn1[ro + j + 2] = c2 + g * h[j + 2];
            syn1[ro + j + 3] = c3 + g * h[j + 3];
          }
        }
        for (let j2 = 0; j2 < dim; j2++) syn0[ri + j2] += e[j2];
      }
    }
  }
  return effective;
}

/** Splits order[0..n) into `parts` contiguous slices of about equal raw token counts. */
export function sliceByWords(order: Int32Array, offsets: Int32Array, parts: number): Int32Array {
  let total = 0;
  for (let p = 0; p < order.length; p++) total += offsets[order[p] + 1] - offsets[order[p]];
  const cuts = new Int32Array(parts + 1);
  cuts[parts] = order.length;
  let acc = 0;
  let k = 1;
  for (let p = 0; p < order.length && k < parts; p++) {
    acc += offsets[order[p] + 1] - offsets[order[p]];
    while (k < parts && acc >= (total * k) / parts) cuts[k++] = p + 1;
  }
  for (; k < parts; k++) cuts[k] = order.length;
  return cuts;
}
