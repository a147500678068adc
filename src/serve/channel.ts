/**
 * A recall channel (gorse's `kind/name`): one ranked list per request, best first. The service
 * only sees this interface, so a new kind of channel — an embedding model's U2I through ANN, a
 * precomputed list in Redis — is one more factory here, never a branch in the request path.
 *
 * Query sources (spec §5.2.3, the query side is computed online, decoupled from the item side):
 * - `user`: the model's own user path (known users); unknown users fall back to their recent items;
 * - `recent`: I2I from the user's most recent items (neighbour lists or ANN over item vectors);
 * - `attributes`: the attribute inverted index's cold start from user attributes/features.
 */
import { RecallkitError } from "../errors.ts";
import type { AnnIndex, Metric } from "../index/ann-index.ts";
import { createIndex } from "../index/factory.ts";
import type { Csr } from "../math/csr.ts";
import type { TopK } from "../math/topk.ts";
import type { Recommender } from "../recommender.ts";
import type { ChannelSource } from "./config.ts";

export interface ChannelQuery {
  /** Dense user index, −1 for a user the models have not seen. */
  readonly user: number;
  /** Recent items, most recent last (training tail, online events, request recentItems). */
  readonly recent: Int32Array;
  /** User attributes: the request's userFeatures over the catalogue's user attributes. */
  readonly attributes: Readonly<Record<string, readonly string[]>>;
  /** How many items to return. */
  readonly k: number;
  /** user → training items to mask at the source, or null (no masking). */
  readonly seen: Csr | null;
}

export interface ChannelHits {
  readonly ids: ArrayLike<number>;
  readonly scores: ArrayLike<number>;
}

export interface Channel {
  /** `kind/name`, e.g. `u2i/itemcf`. */
  readonly name: string;
  /** Items this channel contributes to the merge at most. */
  readonly quota: number;
  readonly timeoutMs: number;
  readonly when: "always" | "known" | "cold";
  /** What the channel does, for /v1/channels and the web page. */
  readonly describe: string;
  /** The ranked list, or null when the channel has nothing to say for this query (no seeds). */
  run(q: ChannelQuery): ChannelHits | null | Promise<ChannelHits | null>;
}

export interface ChannelOptions {
  readonly name: string;
  readonly source: ChannelSource;
  readonly quota: number;
  readonly timeoutMs: number;
  readonly when: "always" | "known" | "cold";
  /** Most recent items used as seeds. */
  readonly seeds: number;
}

type AttributeRecommender = Recommender & {
  recommendFromAttributes(attrs: Readonly<Record<string, readonly string[]>>, k: number): TopK;
};
const hasAttributes = (m: Recommender): m is AttributeRecommender =>
  typeof (m as Partial<AttributeRecommender>).recommendFromAttributes === "function";

function bad(name: string, msg: string): RecallkitError {
  return new RecallkitError("RK_ERR_CONFIG", `channels."${name}": ${msg}`);
}

const lastN = (a: Int32Array, n: number): Int32Array => (a.length <= n ? a : a.subarray(a.length - n));

/** Whether sorted `row` holds x (binary search). */
export function sortedHas(row: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = row.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = row[mid];
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** The user's training items to mask at the source (a view), or undefined. */
function seenRow(q: ChannelQuery): Int32Array | undefined {
  const s = q.seen;
  return s !== null && q.user >= 0 && q.user < s.nRows
    ? s.indices.subarray(s.offsets[q.user], s.offsets[q.user + 1])
    : undefined;
}

/** A channel answered by the model itself (recommend / recommendFromItems / recommendFromAttributes). */
export function modelChannel(model: Recommender, o: ChannelOptions): Channel {
  const base = { name: o.name, quota: o.quota, timeoutMs: o.timeoutMs, when: o.when };
  const fromItems = model.recommendFromItems?.bind(model);
  if (o.source === "recent") {
    if (fromItems === undefined)
      throw bad(o.name, `model "${model.kind}" cannot recommend from recent items`);
    return {
      ...base,
      describe: `${model.kind}: from the last ${o.seeds} recent items`,
      run: (q) =>
        q.recent.length === 0 ? null : fromItems(lastN(q.recent, o.seeds), q.k, seenRow(q)).row(0),
    };
  }
  if (o.source === "attributes") {
    if (!hasAttributes(model))
      throw bad(o.name, `model "${model.kind}" cannot recommend from user attributes (use inverted-index)`);
    return {
      ...base,
      describe: `${model.kind}: from user attributes / userFeatures`,
      run: (q) =>
        Object.keys(q.attributes).length === 0
          ? null
          : model.recommendFromAttributes(q.attributes, q.k).row(0),
    };
  }
  return {
    ...base,
    describe: `${model.kind}: user model${fromItems === undefined ? "" : "; unknown users from recent items"}`,
    run: (q) => {
      if (q.user >= 0) {
        const r = model.recommend(Int32Array.of(q.user), q.k, { exclude: q.seen });
        return r instanceof Promise ? r.then((t) => t.row(0)) : r.row(0);
      }
      if (fromItems === undefined) return null;
      return fromItems(lastN(q.recent, o.seeds), q.k, seenRow(q)).row(0);
    },
  };
}

type FoldIn = Recommender & { foldInUser(items: Int32Array): Float32Array };
const hasFoldIn = (m: Recommender): m is FoldIn => typeof (m as Partial<FoldIn>).foldInUser === "function";

/**
 * U2I or I2I through an ANN index over the model's item vectors (DESIGN §2: item vectors are
 * computed offline and indexed; the query vector is computed online). Known users query with
 * their own vector; unknown users with the model's `userVectorFromFeatures` (FM, two-tower:
 * attributes and recent items), else a vector folded in from their recent items (ALS-style
 * `foldInUser` when the model has one, else the mean of the items' vectors). Source `recent`
 * searches from each of the last `seeds` items and interleaves the lists, most recent first.
 * `index`: an index already built over exactly these item vectors (opened from its artifact,
 * see ann.ts); without it the index is built here.
 */
export function annChannel(
  model: Recommender,
  o: ChannelOptions & { spec: string; metric: Metric; index?: AnnIndex },
): Channel {
  if (model.embeddings === undefined)
    throw bad(
      o.name,
      `model "${model.kind}" has no embeddings; retrieval "ann" needs a factor/embedding model`,
    );
  if (o.source === "attributes") throw bad(o.name, `retrieval "ann" works from source "user" or "recent"`);
  const need = model.annMetric;
  if (need !== undefined && o.metric !== need.metric)
    throw bad(
      o.name,
      `model "${model.kind}" has ${need.why}; use metric "${need.metric}", not "${o.metric}"`,
    );
  const emb = model.embeddings();
  const dim = emb.dim;
  const nItems = emb.items.length / dim;
  let index: AnnIndex;
  if (o.index !== undefined) {
    index = o.index;
    if (index.dim !== dim || index.size !== nItems || index.metric !== o.metric)
      throw bad(
        o.name,
        `ANN index holds ${index.size} × ${index.dim} (${index.metric}), the model has ${nItems} × ${dim} (${o.metric})`,
      );
  } else {
    index = createIndex(o.spec, dim, o.metric);
    index.add(emb.items);
  }
  const nUsers = emb.users.length / dim;
  // Warm the fold-in once (ALS computes its Gram matrix on first use), so the first cold
  // request does not pay for it and miss its timeout.
  if (hasFoldIn(model) && nItems > 0) model.foldInUser(Int32Array.of(0));
  const base = { name: o.name, quota: o.quota, timeoutMs: o.timeoutMs, when: o.when };
  const userVector = (q: ChannelQuery): Float32Array | null => {
    if (q.user >= 0 && q.user < nUsers) return emb.users.subarray(q.user * dim, (q.user + 1) * dim);
    const seeds = lastN(q.recent, o.seeds).filter((i) => i < nItems);
    if (model.userVectorFromFeatures !== undefined) return model.userVectorFromFeatures(q.attributes, seeds);
    if (seeds.length === 0) return null;
    if (hasFoldIn(model)) return model.foldInUser(seeds);
    const v = new Float32Array(dim);
    for (const it of seeds) for (let j = 0; j < dim; j++) v[j] += emb.items[it * dim + j] / seeds.length;
    return v;
  };
  if (o.source === "user")
    return {
      ...base,
      describe: `${model.kind}: U2I via ANN ${index.spec} (${o.metric}) from the user vector`,
      run: (q) => {
        const v = userVector(q);
        if (v === null) return null;
        const exclude = seenRow(q);
        return index.search(v, q.k, exclude === undefined ? {} : { exclude }).row(0);
      },
    };
  return {
    ...base,
    describe: `${model.kind}: I2I via ANN ${index.spec} (${o.metric}) from the last ${o.seeds} recent items`,
    run: (q) => {
      const seeds = lastN(q.recent, o.seeds)
        .filter((i) => i < nItems)
        .reverse();
      if (seeds.length === 0) return null;
      let queries = model.i2iQueries?.(seeds);
      if (queries === undefined) {
        queries = new Float32Array(seeds.length * dim);
        for (let s = 0; s < seeds.length; s++)
          queries.set(emb.items.subarray(seeds[s] * dim, (seeds[s] + 1) * dim), s * dim);
      }
      const per = Math.max(1, Math.ceil(q.k / seeds.length) + 1);
      const seen = seenRow(q);
      const own = new Set(seeds);
      const exclude = (id: number) => own.has(id) || (seen !== undefined && sortedHas(seen, id));
      const top = index.searchBatch(queries, seeds.length, per + 1, { exclude });
      return interleave(top, q.k);
    },
  };
}

/** Round-robin over the rows of a batch result, first occurrence kept, at most k items. */
function interleave(top: TopK, k: number): ChannelHits {
  const ids: number[] = [];
  const scores: number[] = [];
  const taken = new Set<number>();
  for (let j = 0; j < top.k && ids.length < k; j++)
    for (let r = 0; r < top.n && ids.length < k; r++) {
      if (j >= top.counts[r]) continue;
      const it = top.ids[r * top.k + j];
      if (taken.has(it)) continue;
      taken.add(it);
      ids.push(it);
      scores.push(top.scores[r * top.k + j]);
    }
  return { ids, scores };
}
