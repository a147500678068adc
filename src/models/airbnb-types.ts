/**
 * Airbnb U2I with user and listing types (Grbovic & Cheng, KDD'18; spec §5.3.2, eq. 5-18).
 * Bucketing rules turn a user's attributes (age band × gender × occupation) into a user-type
 * token and an item's attributes and stats (genre × era × popularity band) into a listing-type
 * token; both live in one token space, user types first (0..nUserTypes), listing types after.
 * Each training user gives one sequence, in time order, of
 *
 *   ut, lt(i₁), ut, lt(i₂), …        (positive events: weight ≥ positiveMin, or every row unweighted)
 *
 * and the SGNS kernel (train/sgns.ts) trains only (user type → listing type) pairs
 * (`outputFrom` = nUserTypes), with F^0.75 negatives over listing types and, per sequence, hard
 * negatives drawn from the listing types of that user's rejections (weight ≤ rejectMax: 5-18's
 * explicit negatives). Serving: user u → syn0[type(u)], item i → syn1[type(i)] (the pair the
 * kernel trains), plus one prior column (user side 1). SGNS with F^0.75 negatives learns
 * u·c ≈ log P(lt | ut) − log k − 0.75·log F(lt) + const (PMI minus the noise), which discounts
 * popularity; `prior: true` (default) adds back 0.75·log(1 + F(lt)) and the item's share of its
 * type, log((1 + n_i)/(n_lt + |lt|)), so the score ranks by ≈ log P(i | user type) — what a user
 * known only by attributes needs.
 *
 * Cold start (ML-100k, BENCHMARKS.md): the cross of age band × gender × occupation takes 168
 * values among 943 users, 118 of them with ≤ 5 users, whose vectors are noise; and a
 * listing type (genre × era × popularity band) serves all its items alike. `minTypeUsers` backs
 * rare types off to coarser ones (dropping fields from the end), `outputs: "items"` gives every
 * item its own context vector (scored u·c_i + 0.75·log(1 + F(i)) ≈ log P(i | type)), and
 * `positiveMin: 1` counts every rating as a booking (the test asks which items the user rates, and
 * low ratings are still watches); with those the withheld users beat popularity, by about as much
 * as popularity within the user's age band does. `userTokens: "fields"` (one token per field,
 * summed: a naive-Bayes combination) was tried and is worse there. `prior: false`: only ε·log(1 + n_i), a tie-break inside a type. Any user or item with attributes has a type, hence a vector: a user withheld
 * from training is served from attributes alone (cold start); an unseen item falls in the
 * lowest popularity band of its genre × era.
 */
import { assert } from "../errors.ts";
import type { Sequences } from "../positives/sequences.ts";
import { type SgnsKernel, trainSgns } from "../train/sgns-train.ts";
import type { AttributeTable, Dataset } from "../types.ts";
import { defaultWorkers } from "../workers.ts";
import { EmbeddingModel } from "./embedding-model.ts";
import { item2vecRecipe, sgnsConfig, WordVectorsModel } from "./item2vec.ts";

export interface AirbnbTypesOptions {
  /** User attributes whose (first) values make the user type. Default age, gender, occupation. */
  readonly userFields?: readonly string[];
  /**
   * "cross" (default): one user-type token per combination of the fields' values (the paper's
   * user types); "fields": one token per field value (age band, gender, occupation), the user's
   * tokens taking turns in the sequence and summed when serving (a naive-Bayes combination).
   */
  readonly userTokens?: "cross" | "fields";
  /**
   * Cross types with fewer training users back off: the last field is dropped ("*") until the
   * type has at least this many users or one field is left. Default 1 (no back-off).
   */
  readonly minTypeUsers?: number;
  /**
   * Output tokens: "types" (default, the paper's listing types; items served by their type's
   * vector and their share of it) or "items" (item ids; each item has its own context vector,
   * an item with no positive rows gets none and ranks last).
   */
  readonly outputs?: "types" | "items";
  /** Item attributes whose (first) values make the listing type. Default genre, year. */
  readonly itemFields?: readonly string[];
  /** Attribute values of this field are years, bucketed into eras of `eraYears`. Default "year", 10. */
  readonly eraField?: string;
  readonly eraYears?: number;
  /** Popularity bands (equal-count quantiles of train counts; unseen items: band 0). Default 3. */
  readonly popularityBands?: number;
  /** Rows with weight ≥ this are positives (weights absent: all rows). Default 4. */
  readonly positiveMin?: number;
  /** Rows with weight ≤ this are rejections (hard negatives). Default 2. */
  readonly rejectMax?: number;
  /** Hard negatives per pair. Default 2. */
  readonly hardNegatives?: number;
  /** Add the log prior of the listing type and the item's share in it (see above). Default true. */
  readonly prior?: boolean;
  readonly dim?: number;
  readonly window?: number;
  readonly negatives?: number;
  readonly alpha?: number;
  readonly minAlpha?: number;
  readonly epochs?: number;
  readonly workers?: number;
  readonly seed?: number;
  /** SGNS arithmetic: "wasm" (default where supported) or "js" (the reference kernel). */
  readonly kernel?: SgnsKernel;
}

/** Type ids of entities from bucketed attribute values; −1 values mean "missing". Allocates. */
function typeIds(keys: string[]): { ids: Int32Array; names: string[] } {
  const map = new Map<string, number>();
  const ids = new Int32Array(keys.length);
  keys.forEach((k, i) => {
    let t = map.get(k);
    if (t === undefined) {
      t = map.size;
      map.set(k, t);
    }
    ids[i] = t;
  });
  return { ids, names: [...map.keys()] };
}

/** First value of `field` for each of n rows, "?" when missing; years bucketed when `era` > 0. */
function values(attrs: AttributeTable, field: string, n: number, era: number): string[] {
  const f = attrs.get(field);
  assert(
    f !== undefined,
    () => `airbnb-types: no attribute "${field}" (have: ${[...attrs.keys()].join(", ")})`,
  );
  const names = f.vocab.ids();
  return Array.from({ length: n }, (_, r) => {
    if (r >= f.csr.nRows || f.csr.offsets[r + 1] === f.csr.offsets[r]) return "?";
    const v = names[f.csr.indices[f.csr.offsets[r]]];
    if (era <= 0) return v;
    const y = Number.parseInt(v, 10);
    return Number.isFinite(y) ? `${Math.floor(y / era) * era}s` : "?";
  });
}

export class AirbnbTypes extends WordVectorsModel {
  private readonly o: AirbnbTypesOptions;
  /** Type names (user types, then listing types) and each user's / item's type id (after fit). */
  typeNames: string[] = [];
  userType: Int32Array = new Int32Array(0);
  itemType: Int32Array = new Int32Array(0);
  /** Each user's tokens, `tokensPerUser` per user (cross: its type; fields: one per field). */
  userTokens: Int32Array = new Int32Array(0);
  tokensPerUser = 1;

  constructor(o: AirbnbTypesOptions = {}) {
    super(
      item2vecRecipe({ dim: o.dim ?? 32 }),
      { kind: "airbnb-types" },
      {
        userFields: ["age", "gender", "occupation"],
        itemFields: ["genre", "year"],
        eraField: "year",
        eraYears: 10,
        popularityBands: 3,
        positiveMin: 4,
        rejectMax: 2,
        hardNegatives: 2,
        prior: true,
        dim: 32,
        window: 4,
        negatives: 5,
        epochs: 10,
        seed: 42,
        ...o,
      },
    );
    this.o = o;
  }

  /** Types of all users and items of `data` (train counts set the popularity bands). */
  private types(data: Dataset): { nUserTypes: number; nTypes: number; counts: Float64Array } {
    const o = this.o;
    const nU = data.users.size;
    const nI = data.items.size;
    const eraField = o.eraField ?? "year";
    const era = o.eraYears ?? 10;
    const uf = o.userFields ?? ["age", "gender", "occupation"];
    const itf = o.itemFields ?? ["genre", "year"];
    const uvals = uf.map((f) => values(data.userAttributes, f, nU, 0));
    const perUser = (o.userTokens ?? "cross") === "fields" ? uf.length : 1;
    const keys: string[] = [];
    if (perUser > 1) {
      for (let u = 0; u < nU; u++) for (let k = 0; k < uf.length; k++) keys.push(`u:${uf[k]}=${uvals[k][u]}`);
    } else {
      const active = new Uint8Array(nU);
      for (let e = 0; e < data.train.length; e++) active[data.train.users[e]] = 1;
      const minUsers = o.minTypeUsers ?? 1;
      // back-off: keep the longest prefix of fields whose type has ≥ minUsers training users
      const kept = new Int32Array(nU).fill(uf.length);
      const keyOf = (u: number, n: number) => `u:${uvals.map((v, k) => (k < n ? v[u] : "*")).join("|")}`;
      for (let n = uf.length; n > 1; n--) {
        const size = new Map<string, number>();
        for (let u = 0; u < nU; u++) {
          const key = keyOf(u, n);
          size.set(key, (size.get(key) ?? 0) + active[u]);
        }
        for (let u = 0; u < nU; u++)
          if (kept[u] === n && (size.get(keyOf(u, n)) ?? 0) < minUsers) kept[u] = n - 1;
      }
      for (let u = 0; u < nU; u++) keys.push(keyOf(u, kept[u]));
    }
    const ut = typeIds(keys);
    const counts = new Float64Array(nI);
    for (let e = 0; e < data.train.length; e++) counts[data.train.items[e]]++;
    const nb = o.popularityBands ?? 3;
    const seen = [...counts].filter((c) => c > 0).sort((a, b) => a - b);
    const cuts = Array.from(
      { length: nb - 1 },
      (_, b) => seen[Math.floor(((b + 1) * seen.length) / nb)] ?? 0,
    );
    const band = (c: number) => (c === 0 ? 0 : cuts.filter((x) => c >= x).length);
    const ivals = itf.map((f) => values(data.itemAttributes, f, nI, f === eraField ? era : 0));
    const lt = typeIds(
      Array.from({ length: nI }, (_, i) => `i:${ivals.map((v) => v[i]).join("|")}|pop${band(counts[i])}`),
    );
    this.userTokens = ut.ids;
    this.tokensPerUser = perUser;
    this.userType = Int32Array.from({ length: nU }, (_, u) => ut.ids[u * perUser]);
    this.itemType = Int32Array.from(lt.ids, (t) => t + ut.names.length);
    this.typeNames = [...ut.names, ...lt.names];
    return { nUserTypes: ut.names.length, nTypes: this.typeNames.length, counts };
  }

  override async fit(data: Dataset): Promise<this> {
    const o = this.o;
    const dim = o.dim ?? 32;
    const t0 = this.types(data);
    const { nUserTypes, counts } = t0;
    const byItem = (o.outputs ?? "types") === "items";
    const nTypes = byItem ? nUserTypes + data.items.size : t0.nTypes;
    // output token of item i
    const outTok = byItem
      ? Int32Array.from({ length: data.items.size }, (_, i) => nUserTypes + i)
      : this.itemType;
    const log = data.train;
    const nU = data.users.size;
    const posMin = o.positiveMin ?? 4;
    const rejMax = o.rejectMax ?? 2;
    // per-user rows in time order (ts, else file order)
    const byUser: number[][] = Array.from({ length: nU }, () => []);
    const order = Int32Array.from({ length: log.length }, (_, e) => e);
    const ts = log.ts;
    if (ts !== null) order.sort((a, b) => ts[a] - ts[b] || a - b);
    for (const e of order) byUser[log.users[e]].push(e);
    const seqOff = [0];
    const seqTok: number[] = [];
    const hardOff = [0];
    const hard: number[] = [];
    const negW = new Float64Array(nTypes);
    for (let u = 0; u < nU; u++) {
      const rows = byUser[u];
      if (rows.length === 0) continue;
      const m = this.tokensPerUser;
      let turn = 0;
      for (const e of rows) {
        const w = log.weights === null ? posMin : log.weights[e];
        const it = outTok[log.items[e]];
        if (w >= posMin) {
          // the user's tokens take turns before each listing type (one token in cross mode)
          seqTok.push(this.userTokens[u * m + (turn++ % m)], it);
          negW[it]++;
        } else if (log.weights !== null && w <= rejMax) hard.push(it);
      }
      seqOff.push(seqTok.length);
      hardOff.push(hard.length);
    }
    const posCount = Float64Array.from(negW);
    for (let t = 0; t < nTypes; t++) negW[t] = t < nUserTypes ? 0 : negW[t] ** 0.75;
    const seqs: Sequences = { offsets: Int32Array.from(seqOff), items: Int32Array.from(seqTok) };
    const r = await trainSgns({
      nTokens: nTypes,
      corpus: {
        offsets: seqs.offsets,
        tokens: seqs.items,
        keep: null,
        globalCtx: null,
        market: null,
        marketOffsets: null,
        marketItems: null,
        hardOffsets: Int32Array.from(hardOff),
        hardItems: Int32Array.from(hard),
      },
      config: sgnsConfig(
        { dim, window: o.window ?? 4, negatives: o.negatives ?? 5, epochs: o.epochs ?? 10, ...alphas(o) },
        { outputFrom: nUserTypes, nHard: o.hardNegatives ?? 2 },
      ),
      negWeights: negW,
      workers: o.workers ?? defaultWorkers(),
      seed: o.seed ?? 42,
      kernel: o.kernel,
    });
    this.record(r);
    // serving: users → syn0[user type], items → syn1[listing type]; the last column is the prior
    const d = dim + 4; // stays a multiple of 4
    const nI = data.items.size;
    const typeCount = new Float64Array(nTypes);
    const typeSize = new Float64Array(nTypes);
    for (let i = 0; i < nI; i++) {
      typeCount[this.itemType[i]] += counts[i];
      typeSize[this.itemType[i]]++;
    }
    // SGNS fits v·c ≈ log P(lt | token) − 0.75·log F(lt) + const; summing m tokens' log P(lt | ·)
    // as naive Bayes takes −(m − 1)·log P(lt): prior coefficient 0.75·m − (m − 1) (0.75 for m = 1)
    const m = this.tokensPerUser;
    const priorCoef = 0.75 * m - (m - 1);
    let maxLog = 1e-9;
    for (let i = 0; i < nI; i++) maxLog = Math.max(maxLog, Math.log1p(counts[i]));
    const items = new Float32Array(nI * d);
    for (let i = 0; i < nI; i++) {
      const t = outTok[i];
      items.set(r.syn1.subarray(t * dim, (t + 1) * dim), i * d);
      // item outputs: an item that was never a positive has no context vector; SGNS's shift
      // (−log k) leaves trained scores below 0, so it is put last instead of scoring 0
      items[i * d + dim] =
        byItem && posCount[t] === 0
          ? -1e4
          : (o.prior ?? true)
            ? priorCoef * Math.log1p(posCount[t]) +
              (byItem ? 0 : Math.log((1 + counts[i]) / (typeCount[t] + typeSize[t])))
            : (1e-3 * Math.log1p(counts[i])) / maxLog;
    }
    const users = new Float32Array(nU * d);
    for (let u = 0; u < nU; u++) {
      for (let k = 0; k < m; k++) {
        const t = this.userTokens[u * m + k];
        for (let j = 0; j < dim; j++) users[u * d + j] += r.syn0[t * dim + j];
      }
      users[u * d + dim] = 1;
    }
    this.dim = d;
    this.nItems = nI;
    this.nUsers = nU;
    this.itemVecs = items;
    this.userVecs = users;
    return this;
  }

  static override async load(dir: string): Promise<EmbeddingModel> {
    return EmbeddingModel.load(dir, "airbnb-types");
  }
}

function alphas(o: AirbnbTypesOptions): { alpha?: number; minAlpha?: number } {
  return {
    ...(o.alpha === undefined ? {} : { alpha: o.alpha }),
    ...(o.minAlpha === undefined ? {} : { minAlpha: o.minAlpha }),
  };
}
