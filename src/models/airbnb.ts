/**
 * Airbnb embeddings (Grbovic & Cheng, KDD'18; spec §5.3.2) — two recipes over the SGNS kernel
 * (train/sgns.ts):
 * - `AirbnbEmbedding` (I2I, 5-17): skip-gram over click sessions; the item a session converted
 *   to (purchase/booking event) is a global context for every item of that session; besides the
 *   F^0.75 negatives, `marketNegatives` per pair come from the positive's market (any item
 *   attribute: city, category).
 * - `AirbnbTypes` (U2I, 5-18) lives in airbnb-types.ts: bucketing rules map users and items to
 *   type tokens in one space; (user type → listing type) pairs, rejections as hard negatives;
 *   any user or item with attributes has a type, hence a vector: cold start.
 */
import { filterRows } from "../data/interactions.ts";
import { sequencesOf } from "../positives/sequences.ts";
import { buildCorpus } from "../train/sgns-corpus.ts";
import { trainSgns } from "../train/sgns-train.ts";
import type { AttributeTable, Dataset } from "../types.ts";
import { defaultWorkers } from "../workers.ts";
import { EmbeddingModel } from "./embedding-model.ts";
import { type Item2VecOptions, item2vecRecipe, sgnsConfig, WordVectorsModel } from "./item2vec.ts";

export interface AirbnbOptions extends Item2VecOptions {
  /** Events that mark a conversion (global context, not part of the click sequence). Default purchase/book/booking. */
  readonly conversionEvents?: readonly string[];
  /** Item attribute defining the market for hard negatives; null = none. Default "category" when present. */
  readonly market?: string | null;
  /** Same-market negatives per pair. Default 2. */
  readonly marketNegatives?: number;
}

const CONVERSIONS = ["purchase", "book", "booking"];

export class AirbnbEmbedding extends WordVectorsModel {
  private readonly o: AirbnbOptions;
  constructor(o: AirbnbOptions = {}) {
    const { sequences: _s, ...given } = o;
    super(
      item2vecRecipe(o),
      { kind: "airbnb" },
      { window: 5, negatives: 5, marketNegatives: 2, epochs: 5, ...given },
    );
    this.o = o;
  }

  override async fit(data: Dataset): Promise<this> {
    const o = this.o;
    const log = data.train;
    const nItems = data.items.size;
    const convNames = new Set(o.conversionEvents ?? CONVERSIONS);
    const isConv = log.eventNames.map((n) => convNames.has(n));
    const key = log.sessions ?? log.users;
    let nKeys = 0;
    for (let e = 0; e < log.length; e++) nKeys = Math.max(nKeys, key[e] + 1);
    const conv = new Int32Array(nKeys).fill(-1);
    const clicks = new Uint8Array(log.length);
    for (let e = 0; e < log.length; e++) {
      const c = log.events !== null && isConv[log.events[e]];
      if (c) conv[key[e]] = log.items[e];
      else clicks[e] = 1;
    }
    const built = buildCorpus(o.sequences ?? sequencesOf(filterRows(log, clicks)), nItems, {
      minCount: o.minCount ?? 1,
      sample: o.sample ?? 1e-3,
      formula: o.subsampleFormula ?? "word2vec",
      power: o.power ?? 0.75,
    });
    const globalCtx = Int32Array.from(built.seqIndex, (s) => (s < nKeys ? conv[s] : -1));
    const marketName =
      o.market === undefined ? (data.itemAttributes.has("category") ? "category" : null) : o.market;
    const mk = marketName === null ? null : marketsOf(data.itemAttributes, marketName, built.counts);
    const r = await trainSgns({
      nTokens: nItems,
      corpus: { ...built.corpus, globalCtx, ...(mk ?? {}) },
      config: sgnsConfig(o, { nMarket: mk === null ? 0 : (o.marketNegatives ?? 2) }),
      negWeights: built.negWeights,
      workers: o.workers ?? defaultWorkers(),
      seed: o.seed ?? 42,
      kernel: o.kernel,
    });
    this.record(r);
    this.install(data, Float32Array.from(r.syn0), o.dim ?? 64, nItems);
    return this;
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "airbnb");
  }
}

/** item → market (first value of the attribute, −1 none) and market → its trained items. Allocates. */
export function marketsOf(
  attrs: AttributeTable,
  name: string,
  counts: Float64Array,
): { market: Int32Array; marketOffsets: Int32Array; marketItems: Int32Array } {
  const f = attrs.get(name);
  if (f === undefined) throw new RangeError(`airbnb: no item attribute "${name}" for markets`);
  const n = counts.length;
  const market = new Int32Array(n).fill(-1);
  const size = new Int32Array(f.vocab.size + 1);
  for (let v = 0; v < Math.min(n, f.csr.nRows); v++)
    if (f.csr.offsets[v + 1] > f.csr.offsets[v] && counts[v] > 0) {
      market[v] = f.csr.indices[f.csr.offsets[v]];
      size[market[v] + 1]++;
    }
  for (let m = 0; m < f.vocab.size; m++) size[m + 1] += size[m];
  const pos = size.slice(0, f.vocab.size);
  const items = new Int32Array(size[f.vocab.size]);
  for (let v = 0; v < n; v++) if (market[v] >= 0) items[pos[market[v]]++] = v;
  return { market, marketOffsets: size, marketItems: items };
}
