/**
 * EGES (Wang et al. 2018; spec §5.3.3): positives = skip-gram pairs from weighted random walks
 * on the directed session item graph (graph/item-graph.ts); negatives = F^0.75 (5-22);
 * encoder = item id + side-information tables (category, brand, shop, …) combined by per-item
 * softmax attention (5-20) or a plain average (5-19); loss = NEG. An item never seen in training
 * gets the average of its side-information vectors (its attention row was never trained).
 * Heavy lifting: train/eges.ts.
 */
import * as encoders from "../encoders/index.ts";
import { buildItemGraph, randomWalks } from "../graph/item-graph.ts";
import * as losses from "../losses/index.ts";
import { Rng } from "../math/rng.ts";
import * as negatives from "../negatives/index.ts";
import * as positives from "../positives/index.ts";
import { type Sequences, sequencesOf } from "../positives/sequences.ts";
import { combineInto, type EgesTables, fieldWeightsInto, trainEges } from "../train/eges.ts";
import type { Recipe } from "../train/recipe.ts";
import type { Dataset } from "../types.ts";
import { EmbeddingModel } from "./embedding-model.ts";
import { type Item2VecOptions, WordVectorsModel } from "./item2vec.ts";

export interface EgesOptions
  extends Pick<Item2VecOptions, "dim" | "window" | "negatives" | "power" | "alpha" | "minAlpha" | "seed"> {
  /** Item attributes used as side information. Default: all of `data.itemAttributes`. */
  readonly fields?: readonly string[];
  /** "softmax" (5-20, default) or "average" (5-19). */
  readonly combine?: "softmax" | "average";
  /** Default 10 each. */
  readonly walksPerNode?: number;
  readonly walkLength?: number;
  /** Default 5. */
  readonly epochs?: number;
  /** Sequences to build the graph from instead of cutting `data.train`. */
  readonly sequences?: Sequences;
  /** Hogwild worker threads; 0 (default) = in-process, exact and deterministic. */
  readonly workers?: number;
}

export function egesRecipe(o: EgesOptions = {}): Recipe {
  const dim = o.dim ?? 64;
  return {
    positives: positives.skipGram({ window: o.window ?? 5 }), // over random walks
    negatives: negatives.popularity({ power: o.power ?? 0.75, count: o.negatives ?? 5 }),
    query: encoders.featureSum({ dim }), // id + side info, attention-weighted
    item: encoders.idTable({ dim }),
    loss: losses.binary(),
    score: "dot",
  };
}

export class Eges extends WordVectorsModel {
  private readonly o: EgesOptions;
  /** The trained tables (null after load). */
  tables: EgesTables | null = null;
  /** Items that occurred in the walks (trained id row). */
  trained: Uint8Array = new Uint8Array(0);
  constructor(o: EgesOptions = {}) {
    const { sequences: _s, ...given } = o;
    super(
      egesRecipe(o),
      { kind: "eges" },
      {
        dim: 64,
        window: 5,
        negatives: 5,
        power: 0.75,
        combine: "softmax",
        walksPerNode: 10,
        walkLength: 10,
        epochs: 5,
        alpha: 0.025,
        minAlpha: 0.0001,
        seed: 42,
        ...given,
      },
    );
    this.o = o;
  }

  override async fit(data: Dataset): Promise<this> {
    const o = this.o;
    const dim = o.dim ?? 64;
    const nItems = data.items.size;
    const rng = new Rng(o.seed ?? 42);
    const graph = buildItemGraph(o.sequences ?? sequencesOf(data.train), nItems);
    const walks = randomWalks(graph, rng, {
      walksPerNode: o.walksPerNode ?? 10,
      walkLength: o.walkLength ?? 10,
    });
    // side-information slots: field 0 = id, then each attribute's first value
    const names = o.fields ?? [...data.itemAttributes.keys()];
    const nF = 1 + names.length;
    const slots = new Int32Array(nItems * nF).fill(-1);
    let rows = nItems;
    for (let v = 0; v < nItems; v++) slots[v * nF] = v;
    names.forEach((name, k) => {
      const f = data.itemAttributes.get(name);
      if (f === undefined) throw new RangeError(`eges: no item attribute "${name}"`);
      for (let v = 0; v < Math.min(nItems, f.csr.nRows); v++)
        if (f.csr.offsets[v + 1] > f.csr.offsets[v])
          slots[v * nF + 1 + k] = rows + f.csr.indices[f.csr.offsets[v]];
      rows += f.vocab.size;
    });
    const W = new Float32Array(rows * dim);
    for (let i = 0; i < W.length; i++) W[i] = (rng.next() - 0.5) / dim;
    const t: EgesTables = {
      W,
      A: new Float32Array(nItems * nF),
      syn1: new Float32Array(nItems * dim),
      slots,
      nFields: nF,
      dim,
    };
    const counts = new Float64Array(nItems);
    for (let e = 0; e < walks.items.length; e++) counts[walks.items[e]]++;
    this.trained = Uint8Array.from(counts, (c) => (c > 0 ? 1 : 0));
    const b = o.power ?? 0.75;
    const negWeights = Float64Array.from(counts, (c) => c ** b);
    const cfg = {
      window: o.window ?? 5,
      negative: o.negatives ?? 5,
      alpha: o.alpha ?? 0.025,
      minAlpha: o.minAlpha ?? 0.0001,
      epochs: o.epochs ?? 5,
      attention: (o.combine ?? "softmax") === "softmax",
    };
    const seconds = await trainEges(t, cfg, negWeights, walks.offsets, walks.items, rng, o.workers ?? 0);
    this.record({
      syn0: W,
      syn1: t.syn1,
      seconds,
      effectiveWords: walks.items.length * cfg.epochs,
      rawWords: walks.items.length * cfg.epochs,
      kernel: "js",
    });
    this.tables = t;
    this.install(data, this.itemVectors(), dim, nItems);
    return this;
  }

  /** Softmax (or uniform) weights of item v over its fields, id first; sums to 1. Allocates. */
  attentionWeights(v: number): Float64Array {
    const t = this.tables as EgesTables;
    const w = new Float64Array(t.nFields);
    fieldWeightsInto(t, v, (this.o.combine ?? "softmax") === "softmax", w);
    return w;
  }

  /** H_v for trained items; the side-information average (5-19 without the id) for the rest. */
  private itemVectors(): Float32Array {
    const t = this.tables as EgesTables;
    const nItems = this.trained.length;
    const out = new Float32Array(nItems * t.dim);
    const w = new Float64Array(t.nFields);
    const attention = (this.o.combine ?? "softmax") === "softmax";
    for (let v = 0; v < nItems; v++) {
      if (this.trained[v] === 1) {
        fieldWeightsInto(t, v, attention, w);
        combineInto(t, v, w, 0, out, v * t.dim);
      } else combineInto(t, v, null, 1, out, v * t.dim);
    }
    return out;
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "eges");
  }
}
