/**
 * Builds an SGNS corpus (sgns.ts) from item sequences: min-count filtering (rare tokens leave
 * the sequences before windowing, as in word2vec's vocabulary), keep probabilities for frequent
 * tokens and the F(t)^b negative weights (5-22).
 */
import { assert } from "../errors.ts";
import type { Sequences } from "../positives/sequences.ts";
import { keepProbabilities } from "../positives/subsample.ts";
import type { SgnsCorpus } from "./sgns.ts";

export type SubsampleFormula = "word2vec" | "spec";

/**
 * word2vec/gensim keep probability: with c = count, T = sample·total,
 * P_keep = (√(c/T) + 1)·T/c, capped at 1 — the C code's and gensim's formula. "spec" is 5-21,
 * √(sample/f) (positives/subsample.ts); both keep every token with share ≤ sample.
 */
export function word2vecKeep(counts: Float64Array, sample: number): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const thr = sample * total;
  const keep = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    keep[i] = c > 0 ? Math.min(1, (Math.sqrt(c / thr) + 1) * (thr / c)) : 1;
  }
  return keep;
}

export interface CorpusOptions {
  /** Tokens seen fewer times are dropped. Default 1 (keep all). */
  readonly minCount: number;
  /** Subsampling threshold; 0 = off. */
  readonly sample: number;
  readonly formula: SubsampleFormula;
  /** b of F^b for negatives. */
  readonly power: number;
}

export interface BuiltCorpus {
  readonly corpus: SgnsCorpus;
  readonly counts: Float64Array;
  readonly negWeights: Float64Array;
  /** Original sequence index of each kept sequence (sequences emptied by min count go). */
  readonly seqIndex: Int32Array;
}

/** Allocates. `nTokens` is the token space; counts come from the sequences themselves. */
export function buildCorpus(seqs: Sequences, nTokens: number, o: CorpusOptions): BuiltCorpus {
  assert(o.minCount >= 1, () => `minCount must be ≥ 1, got ${o.minCount}`);
  assert(o.sample >= 0, () => `sample must be ≥ 0, got ${o.sample}`);
  const raw = new Float64Array(nTokens);
  for (let e = 0; e < seqs.items.length; e++) raw[seqs.items[e]]++;
  const counts = new Float64Array(nTokens);
  for (let t = 0; t < nTokens; t++) counts[t] = raw[t] >= o.minCount ? raw[t] : 0;
  const nSeq = seqs.offsets.length - 1;
  const offsets: number[] = [0];
  const seqIndex: number[] = [];
  const tokens = new Int32Array(seqs.items.length);
  let n = 0;
  for (let s = 0; s < nSeq; s++) {
    const start = n;
    for (let e = seqs.offsets[s]; e < seqs.offsets[s + 1]; e++)
      if (counts[seqs.items[e]] > 0) tokens[n++] = seqs.items[e];
    if (n > start) {
      offsets.push(n);
      seqIndex.push(s);
    }
  }
  let keep: Float32Array | null = null;
  if (o.sample > 0) {
    const k = o.formula === "word2vec" ? word2vecKeep(counts, o.sample) : keepProbabilities(counts, o.sample);
    keep = Float32Array.from(k);
  }
  const negWeights = new Float64Array(nTokens);
  for (let t = 0; t < nTokens; t++) negWeights[t] = counts[t] > 0 ? counts[t] ** o.power : 0;
  return {
    corpus: {
      offsets: Int32Array.from(offsets),
      tokens: tokens.slice(0, n),
      keep,
      globalCtx: null,
      market: null,
      marketOffsets: null,
      marketItems: null,
      hardOffsets: null,
      hardItems: null,
    },
    counts,
    negWeights,
    seqIndex: Int32Array.from(seqIndex),
  };
}
