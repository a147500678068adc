/**
 * Item2Vec (Barkan & Koenigstein 2016; spec §5.3.1): word2vec's skip-gram with negative sampling
 * over item sequences (sessions, else users' histories). The four dimensions:
 * positives = skip-gram window in a sequence, frequent items subsampled (5-21);
 * negatives = F(t)^0.75 over the catalogue (5-22); encoders = ID table (+ word2vec's separate
 * context table); loss = NEG (5-16). Heavy lifting: train/sgns.ts (Hogwild across workers).
 * Serving vectors are the L2-normalised input table, so dot = cosine (word2vec's most_similar).
 */
import { userItemCsr } from "../data/matrix.ts";
import * as encoders from "../encoders/index.ts";
import * as losses from "../losses/index.ts";
import { normalizeRows } from "../math/blas.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import { type Sequences, sequencesOf } from "../positives/sequences.ts";
import type { Recipe } from "../train/recipe.ts";
import type { SgnsConfig } from "../train/sgns.ts";
import { buildCorpus, type SubsampleFormula } from "../train/sgns-corpus.ts";
import { type SgnsKernel, type SgnsResult, trainSgns } from "../train/sgns-train.ts";
import type { Dataset } from "../types.ts";
import { defaultWorkers } from "../workers.ts";
import { EmbeddingModel } from "./embedding-model.ts";

export interface Item2VecOptions {
  /** Default 64. */
  readonly dim?: number;
  /** Max window; each center draws b ∈ [1, window]. Default 5. */
  readonly window?: number;
  /** Negatives per positive, drawn by F^power. Default 5. */
  readonly negatives?: number;
  /** b of F^b. Default 0.75. */
  readonly power?: number;
  /** Subsampling threshold (0 = off). Default 1e-3. */
  readonly sample?: number;
  /** "word2vec" (gensim/C formula, default) or "spec" (√(α/f), 5-21). */
  readonly subsampleFormula?: SubsampleFormula;
  /** Items seen fewer times get no training (zero vector). Default 1. */
  readonly minCount?: number;
  /** Learning rate, decaying linearly to minAlpha over all epochs. Defaults 0.025 → 0.0001. */
  readonly alpha?: number;
  readonly minAlpha?: number;
  /** Default 5. */
  readonly epochs?: number;
  /** Hogwild threads; 0 = in-process, exact and deterministic. Default: cores. */
  readonly workers?: number;
  /** Default 42. */
  readonly seed?: number;
  /** SGNS arithmetic: "wasm" (SIMD, default where supported) or "js" (the reference kernel). */
  readonly kernel?: SgnsKernel;
  /**
   * "word2vec" (default): word2vec.c's init U(−0.5, 0.5)/dim and σ clamped where |f| ≥ 6;
   * "gensim": gensim 4's init U(−1, 1)/dim and those pairs skipped (its Word2Vec, like for like).
   */
  readonly style?: "word2vec" | "gensim";
  /** Served vectors: "in" (syn0, word2vec's default) or "in+out" (syn0 + syn1neg: first-order co-occurrence too). Default "in". */
  readonly serve?: "in" | "in+out";
  /** Sequences to train on instead of cutting `data.train` (sessions, else users, by time). */
  readonly sequences?: Sequences;
}

/** The parts list Item2Vec trains (for params and for the generic trainer). */
export function item2vecRecipe(o: Item2VecOptions = {}): Recipe {
  const dim = o.dim ?? 64;
  return {
    positives: positives.skipGram({ window: o.window ?? 5, subsample: o.sample ?? 1e-3 }),
    negatives: negatives.popularity({ power: o.power ?? 0.75, count: o.negatives ?? 5 }),
    query: encoders.idTable({ dim }),
    item: encoders.idTable({ dim }), // word2vec's separate context table (syn1neg)
    loss: losses.binary(),
    score: "dot",
  };
}

/** Resolved SGNS settings shared by the word2vec-family models. */
export function sgnsConfig(o: Item2VecOptions, extra: Partial<SgnsConfig> = {}): SgnsConfig {
  return {
    dim: o.dim ?? 64,
    window: o.window ?? 5,
    negative: o.negatives ?? 5,
    nMarket: 0,
    nHard: 0,
    outputFrom: 0,
    alpha: o.alpha ?? 0.025,
    minAlpha: o.minAlpha ?? 0.0001,
    epochs: o.epochs ?? 5,
    style: o.style ?? "word2vec",
    ...extra,
  };
}

/**
 * Base of the word2vec-family models: keeps the last run's throughput and installs trained item
 * vectors (normalised) and user vectors (mean of each user's training items) for serving.
 */
export class WordVectorsModel extends EmbeddingModel {
  /** Effective (kept) words per second of the last fit, and its training seconds. */
  throughput: {
    wordsPerSec: number;
    seconds: number;
    effectiveWords: number;
    rawWords: number;
    kernel: SgnsKernel;
  } | null = null;

  protected install(data: Dataset, items: Float32Array, dim: number, nItems: number): void {
    normalizeRows(items, nItems, dim);
    this.dim = dim;
    this.nItems = nItems;
    this.itemVecs = items;
    this.nUsers = data.users.size;
    this.userVecs = new Float32Array(this.nUsers * dim);
    const m = userItemCsr(data.train, this.nUsers, data.items.size);
    for (let u = 0; u < this.nUsers; u++) {
      const a = m.offsets[u];
      const b = m.offsets[u + 1];
      for (let e = a; e < b; e++)
        for (let j = 0; j < dim; j++) this.userVecs[u * dim + j] += items[m.indices[e] * dim + j] / (b - a);
    }
  }

  protected record(r: SgnsResult): void {
    this.throughput = {
      wordsPerSec: r.effectiveWords / r.seconds,
      seconds: r.seconds,
      effectiveWords: r.effectiveWords,
      rawWords: r.rawWords,
      kernel: r.kernel,
    };
  }
}

export class Item2Vec extends WordVectorsModel {
  private readonly o: Item2VecOptions;
  constructor(o: Item2VecOptions = {}) {
    const { sequences: _s, ...given } = o;
    super(
      item2vecRecipe(o),
      { kind: "item2vec" },
      {
        dim: 64,
        window: 5,
        negatives: 5,
        power: 0.75,
        sample: 1e-3,
        subsampleFormula: "word2vec",
        minCount: 1,
        alpha: 0.025,
        minAlpha: 0.0001,
        epochs: 5,
        seed: 42,
        ...given,
      },
    );
    this.o = o;
  }

  override async fit(data: Dataset): Promise<this> {
    const o = this.o;
    const nItems = data.items.size;
    const seqs = o.sequences ?? sequencesOf(data.train);
    const built = buildCorpus(seqs, nItems, {
      minCount: o.minCount ?? 1,
      sample: o.sample ?? 1e-3,
      formula: o.subsampleFormula ?? "word2vec",
      power: o.power ?? 0.75,
    });
    const r = await trainSgns({
      nTokens: nItems,
      corpus: built.corpus,
      config: sgnsConfig(o),
      negWeights: built.negWeights,
      workers: o.workers ?? defaultWorkers(),
      seed: o.seed ?? 42,
      kernel: o.kernel,
    });
    this.record(r);
    const v = Float32Array.from(r.syn0);
    if (o.serve === "in+out") for (let i = 0; i < v.length; i++) v[i] += r.syn1[i];
    this.install(data, v, o.dim ?? 64, nItems);
    return this;
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "item2vec");
  }
}
