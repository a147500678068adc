/**
 * The built-in synthetic dataset: planted interest clusters, power-law popularity, sessions of
 * views with purchases, and user/item attributes that carry the cluster signal. Deterministic:
 * the same options give byte-identical columns (one `Rng`, a fixed draw order).
 *
 * Generative story:
 * - items are split evenly, at random, into `nClusters` clusters; a global Zipf weight
 *   1 / (rank + 1)^popularityExponent over a random rank order gives popularity;
 * - each user prefers 1–3 clusters (drawn with a mild Zipf bias over clusters) with random mixing
 *   weights; each session picks one preferred cluster; each view comes from that cluster with
 *   probability `focus` (item ∝ popularity within the cluster), else from the whole catalogue
 *   (∝ popularity);
 * - a view is followed by a purchase of the same item with probability `purchaseRate`;
 * - attributes follow the clusters: category = cluster, brand/author/tags mostly from the cluster's
 *   pool, city leaning to the cluster's city; user age band, gender and language lean to the
 *   user's first cluster's profile.
 */
import { assert } from "../errors.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";
import { AttributeBuilder, itemStats } from "./attributes.ts";
import { IdMap } from "./id-map.ts";
import { InteractionsBuilder } from "./interactions.ts";

export interface SyntheticOptions {
  /** Default 42. */
  readonly seed?: number;
  /** Default 2000. */
  readonly nUsers?: number;
  /** Default 1000. */
  readonly nItems?: number;
  /** Interest clusters (default 20). */
  readonly nClusters?: number;
  /** Mean sessions per user (default 4). */
  readonly sessionsPerUser?: number;
  /** Mean views per session (default 6). */
  readonly viewsPerSession?: number;
  /** Share of views drawn from the session's cluster (default 0.85). */
  readonly focus?: number;
  /** Chance that a view is followed by a purchase (default 0.08). */
  readonly purchaseRate?: number;
  /** Zipf exponent of item popularity (default 1). */
  readonly popularityExponent?: number;
  /** Unix seconds of the earliest possible event (default 1,700,000,000). */
  readonly startTs?: number;
}

const AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
const LANGUAGES = ["en", "de", "fr", "es", "zh", "ja", "pt"];
const N_CITIES = 12;

/** Geometric count ≥ 1 with the given mean, capped. */
function geometric(rng: Rng, mean: number, cap: number): number {
  const p = 1 / Math.max(1, mean);
  let u = rng.next();
  while (u === 0) u = rng.next();
  return Math.min(cap, 1 + Math.floor(Math.log(u) / Math.log(1 - p + 1e-12)));
}

/**
 * Generates the synthetic dataset (train = the whole log, test = null; `resolveDataset("synthetic")`
 * adds the default split). Default size: ~50k rows in well under a second.
 * @example const ds = synthesize({ seed: 7, nUsers: 5000 });
 */
export function synthesize(opts: SyntheticOptions = {}): Dataset {
  const seed = opts.seed ?? 42;
  const nUsers = opts.nUsers ?? 2000;
  const nItems = opts.nItems ?? 1000;
  const nClusters = opts.nClusters ?? 20;
  const meanSessions = opts.sessionsPerUser ?? 4;
  const meanViews = opts.viewsPerSession ?? 6;
  const focus = opts.focus ?? 0.85;
  const purchaseRate = opts.purchaseRate ?? 0.08;
  const zipf = opts.popularityExponent ?? 1;
  const startTs = opts.startTs ?? 1_700_000_000;
  assert(
    Number.isInteger(nUsers) && nUsers >= 1,
    () => `synthesize: nUsers must be an integer ≥ 1, got ${nUsers}`,
  );
  assert(
    Number.isInteger(nClusters) && nClusters >= 1 && Number.isInteger(nItems) && nItems >= nClusters,
    () => `synthesize: need integers nItems ≥ nClusters ≥ 1, got nItems ${nItems}, nClusters ${nClusters}`,
  );
  assert(focus >= 0 && focus <= 1, () => `synthesize: focus must be in [0, 1], got ${focus}`);
  assert(
    purchaseRate >= 0 && purchaseRate <= 1,
    () => `synthesize: purchaseRate must be in [0, 1], got ${purchaseRate}`,
  );
  const rng = new Rng(seed);

  // Items: balanced random clusters, random popularity ranks.
  const perm = new Int32Array(nItems);
  for (let i = 0; i < nItems; i++) perm[i] = i;
  rng.shuffle(perm);
  const clusterOf = new Int32Array(nItems);
  for (let k = 0; k < nItems; k++) clusterOf[perm[k]] = k % nClusters;
  rng.shuffle(perm); // perm[rank] = item
  const weight = new Float64Array(nItems);
  for (let r = 0; r < nItems; r++) weight[perm[r]] = 1 / (r + 1) ** zipf;
  const global = new AliasTable(weight);
  const members: Int32Array[] = [];
  const clusterAlias: AliasTable[] = [];
  for (let c = 0; c < nClusters; c++) {
    let n = 0;
    for (let i = 0; i < nItems; i++) if (clusterOf[i] === c) n++;
    const m = new Int32Array(n);
    const w = new Float64Array(n);
    n = 0;
    for (let i = 0; i < nItems; i++) {
      if (clusterOf[i] === c) {
        m[n] = i;
        w[n++] = weight[i];
      }
    }
    members.push(m);
    clusterAlias.push(new AliasTable(w));
  }
  const clusterPick = new AliasTable(
    Float64Array.from({ length: nClusters }, (_, c) => 1 / Math.sqrt(c + 1)),
  );

  // Users and their sessions.
  const users = new IdMap();
  for (let u = 0; u < nUsers; u++) users.add(`u${u}`);
  const items = new IdMap();
  for (let i = 0; i < nItems; i++) items.add(`i${i}`);
  const b = new InteractionsBuilder(
    { ts: true, events: true, sessions: true },
    nUsers * meanSessions * meanViews * 1.2,
  );
  const VIEW = b.event("view");
  const PURCHASE = b.event("purchase");
  const age = new AttributeBuilder("age", false);
  const gender = new AttributeBuilder("gender", false);
  const language = new AttributeBuilder("language", false);
  const prefs = new Int32Array(3);
  const mix = new Float64Array(3);
  let session = 0;
  for (let u = 0; u < nUsers; u++) {
    const nPref = 1 + rng.int(3);
    for (let k = 0; k < nPref; k++) {
      let c = clusterPick.sample(rng);
      for (let tries = 0; tries < 8 && prefs.subarray(0, k).includes(c); tries++) c = clusterPick.sample(rng);
      prefs[k] = c;
      mix[k] = (k === 0 ? 1.5 : 0.5) + rng.next();
    }
    let mixSum = 0;
    for (let k = 0; k < nPref; k++) mixSum += mix[k];
    const c0 = prefs[0];
    age.add(u, AGE_BANDS[rng.next() < 0.6 ? c0 % AGE_BANDS.length : rng.int(AGE_BANDS.length)]);
    const pMale = 0.15 + 0.7 * (((c0 * 37) % 11) / 10);
    gender.add(u, rng.next() < pMale ? "M" : "F");
    language.add(u, LANGUAGES[rng.next() < 0.7 ? (c0 * 5) % LANGUAGES.length : rng.int(LANGUAGES.length)]);

    let t = startTs + Math.floor(rng.next() * 60 * 86400);
    const nSessions = geometric(rng, meanSessions, 25);
    for (let s = 0; s < nSessions; s++) {
      let x = rng.next() * mixSum;
      let k = 0;
      while (k < nPref - 1 && x >= mix[k]) x -= mix[k++];
      const c = prefs[k];
      const nViews = geometric(rng, meanViews, 40);
      for (let v = 0; v < nViews; v++) {
        const item = rng.next() < focus ? members[c][clusterAlias[c].sample(rng)] : global.sample(rng);
        b.push(u, item, 1, t, VIEW, session);
        if (rng.next() < purchaseRate) b.push(u, item, 1, t + 5 + rng.int(60), PURCHASE, session);
        t += 20 + rng.int(280);
      }
      session++;
      t += 7200 + Math.floor(rng.next() * 3 * 86400); // ≥ 2 h between sessions
    }
  }

  // Item attributes from the cluster pools.
  const category = new AttributeBuilder("category", false);
  const brand = new AttributeBuilder("brand", false);
  const tags = new AttributeBuilder("tags", true);
  const author = new AttributeBuilder("author", false);
  const city = new AttributeBuilder("city", false);
  const nTags = nClusters * 4;
  for (let i = 0; i < nItems; i++) {
    const c = clusterOf[i];
    category.add(i, `cat${c}`);
    brand.add(i, rng.next() < 0.8 ? `brand${c}-${rng.int(5)}` : `brand${rng.int(nClusters)}-${rng.int(5)}`);
    const nt = 1 + rng.int(4);
    for (let k = 0; k < nt; k++) {
      // Pools of 8 tags; neighbouring clusters share half of theirs.
      tags.add(i, `tag${rng.next() < 0.8 ? (c * 4 + rng.int(8)) % nTags : rng.int(nTags)}`);
    }
    author.add(
      i,
      rng.next() < 0.9 ? `author${c}-${rng.int(10)}` : `author${rng.int(nClusters)}-${rng.int(10)}`,
    );
    city.add(i, `city${rng.next() < 0.5 ? c % N_CITIES : rng.int(N_CITIES)}`);
  }

  const log = b.build();
  // Stats: clicks = views; exposures = views × an item-specific factor in [2, 10) + a little noise.
  const clicks = new Float64Array(nItems);
  for (let e = 0; e < log.length; e++) if ((log.events as Int32Array)[e] === VIEW) clicks[log.items[e]]++;
  const exposures = new Float64Array(nItems);
  for (let i = 0; i < nItems; i++) exposures[i] = Math.round(clicks[i] * (2 + 8 * rng.next())) + rng.int(5);

  return {
    name: "synthetic",
    users,
    items,
    train: log,
    test: null,
    itemAttributes: new Map([
      ["category", category.build(nItems)],
      ["brand", brand.build(nItems)],
      ["tags", tags.build(nItems)],
      ["author", author.build(nItems)],
      ["city", city.build(nItems)],
    ]),
    userAttributes: new Map([
      ["age", age.build(nUsers)],
      ["gender", gender.build(nUsers)],
      ["language", language.build(nUsers)],
    ]),
    itemStats: itemStats(nItems, { exposures, clicks }),
  };
}
