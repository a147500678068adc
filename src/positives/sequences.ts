import { assert } from "../errors.ts";
import type { Rng } from "../math/rng.ts";
import type { Dataset, Interactions } from "../types.ts";
import { keepProbabilities } from "./subsample.ts";
import type { PairBatch, PositiveInfo, PositiveSource } from "./types.ts";

/** Item sequences as CSR-like rows (order within a row is the sequence order, not sorted). */
export interface Sequences {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

/**
 * Cuts the log into sequences: one per session when `sessions` is set, else one per user; rows
 * ordered by `ts` when present, else by log order (stable).
 */
export function sequencesOf(log: Interactions): Sequences {
  const key = log.sessions ?? log.users;
  let nKeys = 0;
  for (let e = 0; e < log.length; e++) if (key[e] + 1 > nKeys) nKeys = key[e] + 1;
  const offsets = new Int32Array(nKeys + 1);
  for (let e = 0; e < log.length; e++) offsets[key[e] + 1]++;
  for (let k = 0; k < nKeys; k++) offsets[k + 1] += offsets[k];
  const pos = offsets.slice(0, nKeys);
  const rows = new Int32Array(log.length);
  for (let e = 0; e < log.length; e++) rows[pos[key[e]]++] = e;
  const ts = log.ts;
  if (ts !== null) {
    for (let k = 0; k < nKeys; k++) {
      const seg = rows.subarray(offsets[k], offsets[k + 1]);
      seg.sort((a, b) => ts[a] - ts[b] || a - b);
    }
  }
  const items = new Int32Array(log.length);
  for (let e = 0; e < log.length; e++) items[e] = log.items[rows[e]];
  return { offsets, items };
}

/** Emits one sequence's pairs into `out` (capacity ≥ bound); returns how many. */
type PairGenerator = (seq: Int32Array, len: number, rng: Rng, q: Int32Array, t: Int32Array) => number;

/**
 * Streams the pairs a generator makes from each sequence, sequences in a fresh seeded order per
 * epoch, with optional frequency down-sampling of items before pairing (as word2vec does).
 */
class SequencePairs implements PositiveSource {
  epochSize = 0;
  private seqs: Sequences = { offsets: new Int32Array(1), items: new Int32Array(0) };
  private order = new Int32Array(0);
  private keep: Float64Array | null = null;
  private cursor = 0;
  private kept = new Int32Array(0);
  private pendQ = new Int32Array(0);
  private pendT = new Int32Array(0);
  private pendN = 0;
  private pendAt = 0;

  constructor(
    readonly name: string,
    private readonly gen: PairGenerator,
    /** Upper bound of pairs from a sequence of length len. */
    private readonly bound: (len: number) => number,
    /** Expected pairs from a sequence of length len (for epochSize). */
    private readonly expected: (len: number) => number,
    private readonly subsample: number,
    private readonly given: Sequences | null,
  ) {}

  prepare(data: Dataset): PositiveInfo {
    this.seqs = this.given ?? sequencesOf(data.train);
    const nItems = data.items.size;
    const { offsets, items } = this.seqs;
    const nSeq = offsets.length - 1;
    const freq = new Float64Array(nItems);
    for (let e = 0; e < items.length; e++) {
      assert(
        items[e] >= 0 && items[e] < nItems,
        () => `sequence item ${items[e]} at position ${e} is outside [0, ${nItems})`,
      );
      freq[items[e]]++;
    }
    this.keep = this.subsample > 0 ? keepProbabilities(freq, this.subsample) : null;
    let maxLen = 0;
    let size = 0;
    const counts = new Float64Array(nItems);
    for (let s = 0; s < nSeq; s++) {
      const len = offsets[s + 1] - offsets[s];
      if (len > maxLen) maxLen = len;
      let keptLen = 0;
      for (let e = offsets[s]; e < offsets[s + 1]; e++)
        keptLen += this.keep === null ? 1 : this.keep[items[e]];
      const ex = this.expected(keptLen);
      size += ex;
      // each kept occurrence is a target about ex/keptLen times
      if (keptLen > 0)
        for (let e = offsets[s]; e < offsets[s + 1]; e++)
          counts[items[e]] += ((this.keep === null ? 1 : this.keep[items[e]]) * ex) / keptLen;
    }
    this.epochSize = Math.round(size);
    this.order = Int32Array.from({ length: nSeq }, (_, s) => s);
    this.kept = new Int32Array(maxLen);
    this.pendQ = new Int32Array(this.bound(maxLen));
    this.pendT = new Int32Array(this.bound(maxLen));
    return {
      nQueries: nItems,
      nTargets: nItems,
      targetCounts: counts,
      querySpace: "items",
      queryBags: null,
      targetBags: null,
    };
  }

  startEpoch(rng: Rng): void {
    rng.shuffle(this.order);
    this.cursor = 0;
    this.pendN = 0;
    this.pendAt = 0;
  }

  nextInto(rng: Rng, out: PairBatch, max: number): number {
    let n = 0;
    const { offsets, items } = this.seqs;
    while (n < max) {
      if (this.pendAt < this.pendN) {
        const take = Math.min(max - n, this.pendN - this.pendAt);
        out.q.set(this.pendQ.subarray(this.pendAt, this.pendAt + take), n);
        out.t.set(this.pendT.subarray(this.pendAt, this.pendAt + take), n);
        this.pendAt += take;
        n += take;
        continue;
      }
      if (this.cursor >= this.order.length) break;
      const s = this.order[this.cursor++];
      let len = 0;
      for (let e = offsets[s]; e < offsets[s + 1]; e++) {
        const it = items[e];
        if (this.keep !== null && this.keep[it] < 1 && rng.next() >= this.keep[it]) continue;
        this.kept[len++] = it;
      }
      this.pendN = len < 2 ? 0 : this.gen(this.kept, len, rng, this.pendQ, this.pendT);
      this.pendAt = 0;
    }
    return n;
  }
}

export interface SkipGramOptions {
  /** Max distance between center and context. Each center draws its window b ∈ [1, window] (word2vec). Default 5. */
  readonly window?: number;
  /** α of frequency down-sampling (5-21); default 0 (off); word2vec uses 1e-3…1e-5. */
  readonly subsample?: number;
  /** Sequences to use instead of cutting the training log (e.g. random walks, EGES). */
  readonly sequences?: Sequences;
}

/**
 * I2I skip-gram positives (Item2Vec, spec §5.3.1): (center, context) for every context within a
 * random window b ≤ window around the center, in a sequence (a session, else a user's history).
 */
export function skipGram(o: SkipGramOptions = {}): PositiveSource {
  const w = o.window ?? 5;
  assert(Number.isInteger(w) && w >= 1, () => `positives.skipGram: window must be an integer ≥ 1, got ${w}`);
  // mean of 2·min(b, …) over b uniform in [1, w], ignoring edges: (w + 1)
  const gen: PairGenerator = (seq, len, rng, q, t) => {
    let n = 0;
    for (let i = 0; i < len; i++) {
      const b = 1 + Math.floor(rng.next() * w);
      const lo = Math.max(i - b, 0);
      const hi = i + b >= len ? len - 1 : i + b;
      for (let j = lo; j <= hi; j++) {
        if (j === i) continue;
        q[n] = seq[i];
        t[n] = seq[j];
        n++;
      }
    }
    return n;
  };
  return new SequencePairs(
    `skipGram(window=${w})`,
    gen,
    (len) => len * Math.min(2 * w, Math.max(0, len - 1)),
    (len) => (len < 2 ? 0 : len * Math.min(w + 1, len - 1)),
    o.subsample ?? 0,
    o.sequences ?? null,
  );
}

export interface SessionPairsOptions {
  /** Sessions longer than this are cut to their last `maxLength` items (pairs grow as len²). Default 50. */
  readonly maxLength?: number;
  readonly subsample?: number;
  readonly sequences?: Sequences;
}

/** I2I positives from every ordered pair (i ≠ j) of items in one session (spec §5.2.1). */
export function sessionPairs(o: SessionPairsOptions = {}): PositiveSource {
  const m = o.maxLength ?? 50;
  assert(
    Number.isInteger(m) && m >= 2,
    () => `positives.sessionPairs: maxLength must be an integer ≥ 2, got ${m}`,
  );
  const gen: PairGenerator = (seq, len, _rng, q, t) => {
    const from = len > m ? len - m : 0;
    let n = 0;
    for (let i = from; i < len; i++) {
      for (let j = from; j < len; j++) {
        if (i === j) continue;
        q[n] = seq[i];
        t[n] = seq[j];
        n++;
      }
    }
    return n;
  };
  const pairsOf = (len: number) => {
    const l = Math.min(len, m);
    return l < 2 ? 0 : l * (l - 1);
  };
  return new SequencePairs(
    `sessionPairs(max=${m})`,
    gen,
    pairsOf,
    pairsOf,
    o.subsample ?? 0,
    o.sequences ?? null,
  );
}
