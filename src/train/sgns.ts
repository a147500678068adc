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
  /**
   * "word2vec" (default): the C code's init, syn0 ~ U(−0.5, 0.5)/dim, and σ clamped to 1/0 where
   * |f| ≥ MAX_EXP; "gensim": gensim 4's init, U(−1, 1)/dim, and such pairs skipped.
   */
  readonly style?: "word2vec" | "gensim";
}

/**
 * The arithmetic half of SGNS, separate from pair generation: `buf` holds pairs as Int32 runs
 * [input, nTargets, positive, negative…], and `run(nPairs, lr)` applies the NEG step of each,
 * in order. `JsPairKernel` is the reference; train/sgns-wasm.ts has the WASM SIMD one.
 */
export interface PairKernel {
  readonly buf: Int32Array;
  run(nPairs: number, lr: number): void;
}

/** σ lookup of word2vec (0 below −MAX_EXP, 1 from MAX_EXP; index clamped to the table). */
export function tableSigmoid(exp: Float32Array, f: number): number {
  if (f >= MAX_EXP) return 1;
  if (f <= -MAX_EXP) return 0;
  const i = ((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2)) | 0;
  return exp[i < EXP_TABLE_SIZE ? i : EXP_TABLE_SIZE - 1];
}

/** The JS reference kernel (float64 dot products and input gradient, float32 tables). */
export class JsPairKernel implements PairKernel {
  readonly buf: Int32Array;
  private readonly e: Float64Array;
  private readonly exp = sigmoidTable();
  /** `skipSaturated`: pairs with |f| ≥ MAX_EXP get no update (gensim) instead of a clamped σ. */
  constructor(
    private readonly syn0: Float32Array,
    private readonly syn1: Float32Array,
    private readonly dim: number,
    bufInts = 1 << 16,
    private readonly skipSaturated = false,
  ) {
    this.buf = new Int32Array(bufInts);
    this.e = new Float64Array(dim);
  }

  run(nPairs: number, lr: number): void {
    const { syn0, syn1, dim, buf, e, exp } = this;
    let p = 0;
    for (let k = 0; k < nPairs; k++) {
      const ri = buf[p] * dim;
      const nT = buf[p + 1];
      p += 2;
      e.fill(0);
      for (let q = 0; q < nT; q++) {
        const ro = buf[p + q] * dim;
        // dim is a multiple of 4 (checked at the edge): four partial sums for ILP
        let f0 = 0;
        let f1 = 0;
        let f2 = 0;
        let f3 = 0;
        for (let j = 0; j < dim; j += 4) {
          f0 += syn0[ri + j] * syn1[ro + j];
          f1 += syn0[ri + j + 1] * syn1[ro + j + 1];
          f2 += syn0[ri + j + 2] * syn1[ro + j + 2];
          f3 += syn0[ri + j + 3] * syn1[ro + j + 3];
        }
        const f = f0 + f1 + f2 + f3;
        if (this.skipSaturated && (f >= MAX_EXP || f <= -MAX_EXP)) continue;
        const g = ((q === 0 ? 1 : 0) - tableSigmoid(exp, f)) * lr;
        if (g === 0) continue;
        for (let j = 0; j < dim; j++) {
          const c = syn1[ro + j];
          e[j] += g * c;
          syn1[ro + j] = c + g * syn0[ri + j];
        }
      }
      p += nT;
      for (let j = 0; j < dim; j++) syn0[ri + j] += e[j];
    }
  }
}

/** Scratch owned by one thread: the kept tokens of a sequence. */
export class SgnsScratch {
  readonly kept: Int32Array;
  /** Most targets one pair can have (1 + negative + nHard + nMarket). */
  readonly maxTargets: number;
  constructor(maxLen: number, _dim: number, maxTargets = 4096) {
    this.kept = new Int32Array(maxLen);
    this.maxTargets = maxTargets;
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
 * `sliceWords` (raw tokens of the slice) places each sequence on the lr schedule. Pairs and their
 * targets are drawn here (all the randomness) and handed to `kernel` in order, flushed at the end
 * of each sequence or when its buffer is full, so any kernel sees the same pairs; without
 * `kernel`, the JS reference runs on syn0/syn1.
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
  kernel: PairKernel = new JsPairKernel(syn0, syn1, cfg.dim, undefined, cfg.style === "gensim"),
): number {
  const { offsets, tokens, keep, globalCtx, market, marketOffsets, marketItems, hardOffsets, hardItems } = c;
  const { window, negative, nMarket, nHard, outputFrom, alpha, minAlpha, epochs } = cfg;
  const kept = sc.kept;
  const buf = kernel.buf;
  // room one pair may need: input, count, positive and every negative
  const room = buf.length - (3 + negative + nHard + nMarket);
  if (room < 0) throw new RangeError(`sgns: pair buffer of ${buf.length} ints is too small`);
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
    let w = 0;
    let nPairs = 0;
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
        if (w > room) {
          kernel.run(nPairs, lr);
          w = 0;
          nPairs = 0;
        }
        // targets: the positive first, then random, hard and same-market negatives
        buf[w] = inp;
        const at = w + 1;
        w += 2;
        buf[w++] = o;
        for (let k = 0; k < negative; k++) {
          const t = alias.sample(rng);
          if (t !== o) buf[w++] = t;
        }
        if (hn > 0)
          for (let k = 0; k < nHard; k++) {
            const t = (hardItems as Int32Array)[ho + Math.floor(rng.next() * hn)];
            if (t !== o) buf[w++] = t;
          }
        if (nMarket > 0 && market !== null) {
          const m = market[o];
          if (m >= 0) {
            const mo = (marketOffsets as Int32Array)[m];
            const mn = (marketOffsets as Int32Array)[m + 1] - mo;
            for (let k = 0; k < nMarket && mn > 1; k++) {
              const t = (marketItems as Int32Array)[mo + Math.floor(rng.next() * mn)];
              if (t !== o) buf[w++] = t;
            }
          }
        }
        buf[at] = w - at - 1;
        nPairs++;
      }
    }
    if (nPairs > 0) kernel.run(nPairs, lr);
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
