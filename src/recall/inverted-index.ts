/**
 * Attribute inverted index (spec §5.1.1): Map<attribute value, items> with each list sorted by a
 * posterior metric (smoothed CTR, clicks, popularity or any stat column), plus the global popular
 * list. Online, a user's preferred attribute values — from their history, weighted by recency and
 * count, or from their own attributes when they have no history — select lists, which are merged
 * with quotas proportional to the preference weights.
 */
import { userItemCsr } from "../data/matrix.ts";
import { assert, RecallkitError } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import { buildCsr, type Csr, csrHas } from "../math/csr.ts";
import { TopK } from "../math/topk.ts";
import type { Recommender, RecommendOptions } from "../recommender.ts";
import type { AttributeTable, Dataset, ItemStats } from "../types.ts";

export interface InvertedIndexOptions {
  /** Item attribute fields to index (default: every item attribute). */
  readonly fields?: readonly string[];
  /** Sort metric for each list: "popularity" (training interactions, default), "ctr", "clicks" or a stat column name. */
  readonly sortBy?: string;
  /** Beta prior for smoothed CTR = (clicks + alpha) / (exposures + alpha + beta). */
  readonly ctrPrior?: { readonly alpha: number; readonly beta: number };
  /** Items kept per attribute value (default 500). */
  readonly listSize?: number;
  /** Recency half-life in interactions: the n-th most recent interaction weighs 2^(−n/h) (default 20). */
  readonly recencyHalfLife?: number;
  /** Preferred attribute values kept per user (default 10). */
  readonly topValues?: number;
}

type Opts = Required<Omit<InvertedIndexOptions, "fields">> & { fields: readonly string[] | null };

export class InvertedIndex implements Recommender {
  readonly kind = "inverted-index";
  private readonly o: Opts;
  /** token = (field, value); tokenNames[t] = "field=value". */
  private tokenNames: string[] = [];
  /** token → items sorted by metric, best first (values unused). */
  private lists: Csr | null = null;
  /** item → tokens. */
  private itemTokens: Csr | null = null;
  /** user → preferred tokens with weights (top `topValues`). */
  private profiles: Csr | null = null;
  /** "userField=value" → preferred item tokens, for users known only by attributes. */
  private attrProfiles = new Map<string, Map<number, number>>();
  /** Items by metric, best first: the global popular list and the fill-in of last resort. */
  private popular: Int32Array = new Int32Array(0);

  constructor(opts: InvertedIndexOptions = {}) {
    this.o = {
      fields: opts.fields ?? null,
      sortBy: opts.sortBy ?? "popularity",
      ctrPrior: opts.ctrPrior ?? { alpha: 1, beta: 20 },
      listSize: opts.listSize ?? 500,
      recencyHalfLife: opts.recencyHalfLife ?? 20,
      topValues: opts.topValues ?? 10,
    };
    assert(
      this.o.listSize > 0 && this.o.topValues > 0 && this.o.recencyHalfLife > 0,
      () => `InvertedIndex: listSize, topValues and recencyHalfLife must be > 0`,
    );
  }

  params(): Record<string, unknown> {
    return { ...this.o };
  }

  async fit(data: Dataset): Promise<this> {
    const nItems = data.items.size;
    const fields = this.o.fields ?? [...data.itemAttributes.keys()];
    assert(
      fields.length > 0,
      () => `InvertedIndex: dataset "${data.name}" has no item attributes to index`,
      "RK_ERR_INVALID_ARGUMENT",
    );
    const metric = this.metric(data, nItems);
    this.popular = Int32Array.from(metric.keys()).sort((a, b) => metric[b] - metric[a] || a - b);

    // Tokens and item → tokens.
    const rows: number[] = [];
    const cols: number[] = [];
    this.tokenNames = [];
    for (const f of fields) {
      const field = data.itemAttributes.get(f);
      if (field === undefined)
        throw new RecallkitError(
          "RK_ERR_INVALID_ARGUMENT",
          `InvertedIndex: no item attribute "${f}" (have: ${[...data.itemAttributes.keys()].join(", ")})`,
        );
      const base = this.tokenNames.length;
      for (const v of field.vocab.ids()) this.tokenNames.push(`${f}=${v}`);
      for (let i = 0; i < Math.min(nItems, field.csr.nRows); i++)
        for (let e = field.csr.offsets[i]; e < field.csr.offsets[i + 1]; e++) {
          rows.push(i);
          cols.push(base + field.csr.indices[e]);
        }
    }
    const nTokens = this.tokenNames.length;
    this.itemTokens = buildCsr(nItems, nTokens, Int32Array.from(rows), Int32Array.from(cols), null, "one");

    // token → items by metric (the inverted lists), truncated to listSize.
    const rank = new Int32Array(nItems);
    this.popular.forEach((it, r) => {
      rank[it] = r;
    });
    const byToken: number[][] = Array.from({ length: nTokens }, () => []);
    for (let i = 0; i < nItems; i++)
      for (let e = this.itemTokens.offsets[i]; e < this.itemTokens.offsets[i + 1]; e++)
        byToken[this.itemTokens.indices[e]].push(i);
    const offsets = new Int32Array(nTokens + 1);
    const idx: number[] = [];
    for (let t = 0; t < nTokens; t++) {
      const l = byToken[t].sort((a, b) => rank[a] - rank[b]).slice(0, this.o.listSize);
      for (const it of l) idx.push(it);
      offsets[t + 1] = idx.length;
    }
    this.lists = { nRows: nTokens, nCols: nItems, offsets, indices: Int32Array.from(idx), values: null };

    this.profiles = this.buildProfiles(data);
    this.attrProfiles = this.buildAttrProfiles(data.userAttributes, this.profiles);
    return this;
  }

  /** Posterior metric per item used to sort every list. */
  private metric(data: Dataset, nItems: number): Float64Array {
    const s = this.o.sortBy;
    if (s === "popularity") {
      const m = new Float64Array(nItems);
      const ui = userItemCsr(data.train, data.users.size, nItems);
      for (let e = 0; e < ui.indices.length; e++) m[ui.indices[e]]++;
      return m;
    }
    const stats: ItemStats | null = data.itemStats;
    const need = (c: Float64Array | null | undefined, what: string): Float64Array => {
      if (c == null)
        throw new RecallkitError(
          "RK_ERR_INVALID_ARGUMENT",
          `InvertedIndex: sortBy "${s}" needs item stats with ${what}; dataset "${data.name}" has none`,
        );
      return c;
    };
    if (s === "clicks") return need(stats?.clicks, "clicks");
    if (s === "ctr") {
      const c = need(stats?.clicks, "clicks");
      const x = need(stats?.exposures, "exposures");
      const { alpha, beta } = this.o.ctrPrior;
      return Float64Array.from(c, (ci, i) => (ci + alpha) / (x[i] + alpha + beta));
    }
    return need(stats?.columns.get(s), `a "${s}" column`);
  }

  /** Per-user token weights: Σ over history of 2^(−recencyRank/h), top `topValues` kept. */
  private buildProfiles(data: Dataset): Csr {
    const log = data.train;
    const nUsers = data.users.size;
    // Order each user's interactions by time (or log order), most recent last.
    const order = Int32Array.from({ length: log.length }, (_, e) => e);
    const ts = log.ts;
    order.sort((a, b) => log.users[a] - log.users[b] || (ts === null ? a - b : ts[a] - ts[b] || a - b));
    const rows: number[] = [];
    const cols: number[] = [];
    const vals: number[] = [];
    let e = 0;
    const acc = new Map<number, number>();
    while (e < order.length) {
      const u = log.users[order[e]];
      let end = e;
      while (end < order.length && log.users[order[end]] === u) end++;
      acc.clear();
      for (let p = e; p < end; p++)
        this.addItem(acc, log.items[order[p]], 2 ** (-(end - 1 - p) / this.o.recencyHalfLife));
      for (const [t, w] of this.topTokens(acc)) {
        rows.push(u);
        cols.push(t);
        vals.push(w);
      }
      e = end;
    }
    return buildCsr(
      nUsers,
      this.tokenNames.length,
      Int32Array.from(rows),
      Int32Array.from(cols),
      Float32Array.from(vals),
    );
  }

  /** For each user attribute value, the mean normalised profile of users having it. */
  private buildAttrProfiles(attrs: AttributeTable, profiles: Csr): Map<string, Map<number, number>> {
    const out = new Map<string, Map<number, number>>();
    for (const [name, f] of attrs) {
      for (let u = 0; u < Math.min(f.csr.nRows, profiles.nRows); u++) {
        let tot = 0;
        for (let e = profiles.offsets[u]; e < profiles.offsets[u + 1]; e++)
          tot += (profiles.values as Float32Array)[e];
        if (tot === 0) continue;
        for (let a = f.csr.offsets[u]; a < f.csr.offsets[u + 1]; a++) {
          const key = `${name}=${f.vocab.id(f.csr.indices[a])}`;
          const m = out.get(key) ?? new Map<number, number>();
          out.set(key, m);
          for (let e = profiles.offsets[u]; e < profiles.offsets[u + 1]; e++) {
            const t = profiles.indices[e];
            m.set(t, (m.get(t) ?? 0) + (profiles.values as Float32Array)[e] / tot);
          }
        }
      }
    }
    for (const [k, m] of out) out.set(k, new Map(this.topTokens(m)));
    return out;
  }

  private addItem(acc: Map<number, number>, item: number, w: number): void {
    const it = this.itemTokens as Csr;
    if (item >= it.nRows) return;
    for (let e = it.offsets[item]; e < it.offsets[item + 1]; e++)
      acc.set(it.indices[e], (acc.get(it.indices[e]) ?? 0) + w);
  }

  private topTokens(acc: Map<number, number>): [number, number][] {
    return [...acc].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, this.o.topValues);
  }

  /**
   * Merges the lists of the given tokens: token t gets a quota of ⌈k·w_t/Σw⌉ items from the top of
   * its list (skipping excluded and already-taken items), heaviest token first; the global popular
   * list fills whatever is left.
   */
  private mergeInto(
    prefs: [number, number][],
    k: number,
    skip: (item: number) => boolean,
    out: TopK,
    row: number,
  ): void {
    const lists = this.lists as Csr;
    const taken = new Set<number>();
    let c = 0;
    const put = (it: number, score: number): void => {
      out.ids[row * k + c] = it;
      out.scores[row * k + c] = score;
      taken.add(it);
      c++;
    };
    const total = prefs.reduce((s, [, w]) => s + w, 0);
    for (const [t, w] of prefs) {
      let quota = Math.ceil((k * w) / total);
      for (let e = lists.offsets[t]; e < lists.offsets[t + 1] && quota > 0 && c < k; e++) {
        const it = lists.indices[e];
        if (taken.has(it) || skip(it)) continue;
        put(it, w / total);
        quota--;
      }
    }
    for (let j = 0; j < this.popular.length && c < k; j++) {
      const it = this.popular[j];
      if (!taken.has(it) && !skip(it)) put(it, 0);
    }
    out.counts[row] = c;
  }

  recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK {
    const p = this.fitted();
    const ex = opts.exclude ?? null;
    const out = new TopK(users.length, k);
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const prefs: [number, number][] = [];
      if (u < p.nRows)
        for (let e = p.offsets[u]; e < p.offsets[u + 1]; e++)
          prefs.push([p.indices[e], (p.values as Float32Array)[e]]);
      prefs.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      this.mergeInto(prefs, k, (it) => ex !== null && u < ex.nRows && csrHas(ex, u, it), out, r);
    }
    return out;
  }

  recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    this.fitted();
    const acc = new Map<number, number>();
    for (let p = 0; p < recent.length; p++)
      this.addItem(acc, recent[p], 2 ** (-(recent.length - 1 - p) / this.o.recencyHalfLife));
    const seen = new Set(exclude ?? recent);
    const out = new TopK(1, k);
    this.mergeInto(this.topTokens(acc), k, (it) => seen.has(it), out, 0);
    return out;
  }

  /** Cold start: a user known only by attributes, e.g. { gender: ["F"], age: ["25-34"] }. */
  recommendFromAttributes(attrs: Readonly<Record<string, readonly string[]>>, k: number): TopK {
    this.fitted();
    const acc = new Map<number, number>();
    for (const [name, values] of Object.entries(attrs))
      for (const v of values)
        for (const [t, w] of this.attrProfiles.get(`${name}=${v}`) ?? []) acc.set(t, (acc.get(t) ?? 0) + w);
    const out = new TopK(1, k);
    this.mergeInto(this.topTokens(acc), k, () => false, out, 0);
    return out;
  }

  /** The list of one attribute value, e.g. listFor("genre", "Comedy"). */
  listFor(field: string, value: string): Int32Array {
    const lists = this.fittedLists();
    const t = this.tokenNames.indexOf(`${field}=${value}`);
    return t < 0 ? new Int32Array(0) : lists.indices.slice(lists.offsets[t], lists.offsets[t + 1]);
  }

  /** A user's preferred attribute values with weights, strongest first. */
  preferences(user: number): { value: string; weight: number }[] {
    const p = this.fitted();
    const r: { value: string; weight: number }[] = [];
    for (let e = p.offsets[user]; e < p.offsets[user + 1]; e++)
      r.push({ value: this.tokenNames[p.indices[e]], weight: (p.values as Float32Array)[e] });
    return r.sort((a, b) => b.weight - a.weight);
  }

  private fitted(): Csr {
    if (this.profiles === null)
      throw new RecallkitError("RK_ERR_NOT_FITTED", "InvertedIndex: call fit() or load() first");
    return this.profiles;
  }

  private fittedLists(): Csr {
    this.fitted();
    return this.lists as Csr;
  }

  async save(dir: string): Promise<void> {
    const p = this.fitted();
    const l = this.lists as Csr;
    const it = this.itemTokens as Csr;
    const csr = (name: string, m: Csr) => ({
      [`${name}.offsets.npy`]: { npy: m.offsets, shape: [m.offsets.length] },
      [`${name}.indices.npy`]: { npy: m.indices, shape: [m.indices.length] },
      ...(m.values === null ? {} : { [`${name}.values.npy`]: { npy: m.values, shape: [m.values.length] } }),
    });
    await writeArtifact(
      dir,
      {
        type: this.kind,
        params: this.params(),
        meta: { nItems: l.nCols, nUsers: p.nRows, nTokens: l.nRows },
      },
      {
        "tokens.json": { json: this.tokenNames },
        "attr-profiles.json": { json: [...this.attrProfiles].map(([k, m]) => [k, [...m]]) },
        "popular.npy": { npy: this.popular, shape: [this.popular.length] },
        ...csr("lists", l),
        ...csr("item-tokens", it),
        ...csr("profiles", p),
      },
    );
  }

  static async load(dir: string): Promise<InvertedIndex> {
    const a = await readArtifact(dir, "inverted-index");
    const { fields, ...rest } = a.manifest.params as Opts;
    const m = new InvertedIndex({ ...rest, ...(fields === null ? {} : { fields }) });
    const meta = a.manifest.meta as { nItems: number; nUsers: number; nTokens: number };
    const csr = async (name: string, nRows: number, nCols: number, values: boolean): Promise<Csr> => ({
      nRows,
      nCols,
      offsets: (await a.npy(`${name}.offsets.npy`)).data as Int32Array,
      indices: (await a.npy(`${name}.indices.npy`)).data as Int32Array,
      values: values ? ((await a.npy(`${name}.values.npy`)).data as Float32Array) : null,
    });
    m.tokenNames = await a.json<string[]>("tokens.json");
    m.attrProfiles = new Map(
      (await a.json<[string, [number, number][]][]>("attr-profiles.json")).map(([k, v]) => [k, new Map(v)]),
    );
    m.popular = (await a.npy("popular.npy")).data as Int32Array;
    m.lists = await csr("lists", meta.nTokens, meta.nItems, false);
    m.itemTokens = await csr("item-tokens", meta.nItems, meta.nTokens, false);
    m.profiles = await csr("profiles", meta.nUsers, meta.nTokens, true);
    return m;
  }
}
