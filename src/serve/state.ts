/**
 * The serving state: everything a request reads that comes from artifacts — catalogue, models,
 * channels, compiled rules. It is built completely (artifacts read, ANN indexes built) before it
 * replaces the previous one in a single assignment, so a hot reload never shows a request a
 * half-loaded state: requests that started earlier finish on the state they began with.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { RecallkitError } from "../errors.ts";
import type { AnnIndex, Metric } from "../index/ann-index.ts";
import type { Recommender } from "../recommender.ts";
import { loadModel } from "../registry.ts";
import type { Dataset } from "../types.ts";
import {
  type AnnIndexReport,
  type AnnSource,
  annIndexDir,
  annKey,
  annSource,
  buildAnnIndex,
  openAnnIndex,
  sameSource,
} from "./ann.ts";
import { buildCatalogue, type Catalogue, loadCatalogue } from "./catalogue.ts";
import { annChannel, type Channel, modelChannel } from "./channel.ts";
import { catalogueDir, modelArtifact, precomputedDir, type RecallConfig, type Rule } from "./config.ts";
import { badRequest } from "./errors.ts";
import {
  listsVersion,
  loadLists,
  precomputedChannel,
  precomputeLists,
  type RecallLists,
} from "./precomputed.ts";
import type { OnlineStore } from "./store.ts";

export interface ServingState {
  /** 1 for the first load, +1 per successful reload. */
  readonly version: number;
  readonly loadedAt: string;
  readonly loadSeconds: number;
  readonly catalogue: Catalogue;
  readonly channels: readonly Channel[];
  readonly models: ReadonlyMap<string, Recommender>;
  /** The ANN indexes of `retrieval: ann` channels: opened from their artifacts or built at load. */
  readonly annIndexes: readonly AnnIndexReport[];
  /** The ANN indexes by key with their source, for the next reload to reuse when unchanged. */
  readonly annCache: ReadonlyMap<string, { readonly source: AnnSource; readonly index: AnnIndex }>;
  /** Precomputed lists published to the shared store (true: written now, false: already there). */
  readonly sharedLists: readonly SharedListsReport[];
  /** Rule → item keep-mask, compiled on first use. */
  readonly ruleMasks: Map<string, Uint8Array>;
}

export interface SharedListsReport {
  readonly channel: string;
  readonly version: string;
  /** true: written by this load; false: that version was already there; a string: why not. */
  readonly published: boolean | string;
}

/** What a caller can hand over instead of artifacts (library use and tests). */
export interface StateSources {
  /** Build the catalogue from this dataset instead of reading `<artifacts>/catalogue`. */
  readonly dataset?: Dataset;
  /** Fitted models by key, used instead of loading their artifacts. */
  readonly models?: Readonly<Record<string, Recommender>>;
}

async function loadModelChecked(config: RecallConfig, key: string, cat: Catalogue): Promise<Recommender> {
  const dir = modelArtifact(config, key);
  let model: Recommender;
  try {
    model = await loadModel(dir);
  } catch (err) {
    throw new RecallkitError(
      "RK_ERR_ARTIFACT",
      `models.${key}: cannot load ${dir} (${(err as Error).message}); run "recallkit train --config <file>" first`,
      { cause: err },
    );
  }
  const want = config.models[key].type;
  if (model.kind !== want)
    throw new RecallkitError(
      "RK_ERR_ARTIFACT",
      `models.${key}: ${dir} holds a "${model.kind}", config says "${want}"`,
    );
  // The artifact must index items exactly as the catalogue does.
  const ids = await readFile(join(dir, "ids.json"), "utf8").then(
    (t) => JSON.parse(t) as { items: string[] },
    () => null,
  );
  if (ids !== null) {
    const items = cat.items.ids();
    const same = ids.items.length === items.length && ids.items.every((id, i) => id === items[i]);
    if (!same)
      throw new RecallkitError(
        "RK_ERR_ARTIFACT",
        `models.${key}: ${dir} was trained on other items (${ids.items.length} vs the catalogue's ${items.length}); retrain with "recallkit train --config"`,
      );
  }
  return model;
}

/** List length kept per user: the quota, with room for the filters. */
export function precomputeK(config: RecallConfig, quota: number): number {
  return Math.ceil(quota * config.request.overfetch);
}

export async function loadState(
  config: RecallConfig,
  version: number,
  src: StateSources = {},
  store?: OnlineStore,
  previous?: ServingState,
): Promise<ServingState> {
  const t0 = performance.now();
  let catalogue: Catalogue;
  if (src.dataset !== undefined) catalogue = buildCatalogue(src.dataset, config.history.recentSize);
  else {
    try {
      catalogue = await loadCatalogue(catalogueDir(config));
    } catch (err) {
      throw new RecallkitError(
        "RK_ERR_ARTIFACT",
        `no catalogue at ${catalogueDir(config)} (${(err as Error).message}); run "recallkit train --config <file>" first`,
        { cause: err },
      );
    }
  }
  const models = new Map<string, Recommender>();
  const channels: Channel[] = [];
  const indexes = new Map<string, { index: AnnIndex; source: AnnSource; report: AnnIndexReport }>();
  const sharedLists: SharedListsReport[] = [];
  for (const [name, ch] of Object.entries(config.channels)) {
    if (!ch.enabled) continue;
    // A reload runs beside live traffic: between the synchronous steps (model parsing, the
    // native index read, hashing) let waiting requests through, so no one step stalls them all.
    await yieldToRequests();
    let model: Recommender;
    if (typeof ch.model !== "string") model = ch.model;
    else {
      const key = ch.model;
      const have = models.get(key) ?? src.models?.[key] ?? (await loadModelChecked(config, key, catalogue));
      models.set(key, have);
      model = have;
    }
    const o = {
      name,
      source: ch.source,
      quota: ch.k,
      timeoutMs: ch.timeoutMs,
      when: ch.when,
      seeds: ch.seeds,
    };
    let index: AnnIndex | undefined;
    if (ch.retrieval === "ann" && typeof ch.model === "string" && model.embeddings !== undefined) {
      const key = annKey(ch.model, ch.index, ch.metric);
      let got = indexes.get(key);
      if (got === undefined) {
        await yieldToRequests();
        got = await openOrBuildIndex(config, ch.model, ch.index, ch.metric, model, previous);
        await yieldToRequests();
        indexes.set(key, got);
      }
      got.report.channels.push(name);
      index = got.index;
    }
    const live =
      ch.retrieval === "ann"
        ? annChannel(model, {
            ...o,
            spec: ch.index,
            metric: ch.metric,
            ...(index === undefined ? {} : { index }),
          })
        : modelChannel(model, o);
    if (!ch.precompute) channels.push(live);
    else {
      let lists: RecallLists;
      try {
        lists = await loadLists(precomputedDir(config, name));
        if (lists.offsets.length - 1 !== catalogue.users.size) throw new Error("built for other users");
      } catch (err) {
        // Library use without artifacts: compute them now.
        if (src.dataset === undefined)
          throw new RecallkitError(
            "RK_ERR_ARTIFACT",
            `channels."${name}": no precomputed lists at ${precomputedDir(config, name)} (${(err as Error).message}); run "recallkit train --config <file>"`,
          );
        lists = await precomputeLists(
          name,
          model,
          catalogue.users.size,
          precomputeK(config, ch.k),
          catalogue.seen,
        );
      }
      const shared = store?.sharedLists;
      if (shared === undefined) channels.push(precomputedChannel(live, lists));
      else {
        const v = listsVersion(lists, catalogue.items.ids());
        const users = catalogue.users;
        let published: boolean | string;
        try {
          published = await shared.publish(name, v, users.ids(), lists);
        } catch (err) {
          // Redis down at load: serve the in-process copy; reads retry Redis per request.
          published = `failed: ${(err as Error).message}`;
        }
        sharedLists.push({ channel: name, version: v, published });
        channels.push(
          precomputedChannel(live, lists, { store: shared, version: v, userId: (u) => users.id(u) }),
        );
      }
    }
  }
  return {
    version,
    loadedAt: new Date().toISOString(),
    loadSeconds: (performance.now() - t0) / 1000,
    catalogue,
    channels,
    models,
    annIndexes: [...indexes.values()].map((i) => i.report),
    annCache: new Map([...indexes].map(([k, i]) => [k, { source: i.source, index: i.index }])),
    sharedLists,
    ruleMasks: new Map(),
  };
}

const yieldToRequests = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The saved index of model × spec × metric when it matches the model's item vectors, else a fresh build. */
async function openOrBuildIndex(
  config: RecallConfig,
  modelKey: string,
  spec: string,
  metric: Metric,
  model: Recommender,
  previous?: ServingState,
): Promise<{ index: AnnIndex; source: AnnSource; report: AnnIndexReport }> {
  const t0 = performance.now();
  const emb = (model.embeddings as NonNullable<Recommender["embeddings"]>).call(model);
  const src = annSource(modelKey, spec, metric, emb.items, emb.dim);
  const dir = annIndexDir(config, modelKey, spec, metric);
  const key = annKey(modelKey, spec, metric);
  // A reload whose model did not change keeps the index it already serves (read-only, shareable).
  const prev = previous?.annCache.get(key);
  if (prev !== undefined && sameSource(prev.source, src))
    return {
      index: prev.index,
      source: src,
      report: { key, channels: [], dir, origin: "reused", seconds: (performance.now() - t0) / 1000 },
    };
  await yieldToRequests();
  const opened = await openAnnIndex(dir, src);
  if ("index" in opened)
    return {
      index: opened.index,
      source: src,
      report: { key, channels: [], dir, origin: "artifact", seconds: (performance.now() - t0) / 1000 },
    };
  const index = buildAnnIndex(src, emb.items);
  return {
    index,
    source: src,
    report: {
      key,
      channels: [],
      dir,
      origin: "built",
      reason: opened.reason,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}

/**
 * Keep-mask of a business rule over the catalogue's items (1 = the item passes). `where` names
 * the rule in errors ("filters.rules[0]").
 */
export function ruleMask(st: ServingState, rule: Rule, where: string): Uint8Array {
  const key = JSON.stringify([rule.field, rule.in ?? null, rule.notIn ?? null]);
  const hit = st.ruleMasks.get(key);
  if (hit !== undefined) return hit;
  const f = st.catalogue.itemAttributes.get(rule.field);
  if (f === undefined)
    throw badRequest(
      `${where}.field`,
      `unknown item attribute "${rule.field}" (have: ${[...st.catalogue.itemAttributes.keys()].join(", ") || "none"})`,
    );
  const values = new Uint8Array(f.vocab.size);
  for (const v of rule.in ?? rule.notIn ?? []) {
    const i = f.vocab.indexOf(v);
    if (i >= 0) values[i] = 1;
  }
  const keepIfHit = rule.in !== undefined;
  const nItems = st.catalogue.items.size;
  const mask = new Uint8Array(nItems);
  for (let it = 0; it < nItems; it++) {
    let hitAny = false;
    if (it < f.csr.nRows)
      for (let e = f.csr.offsets[it]; e < f.csr.offsets[it + 1]; e++)
        if (values[f.csr.indices[e]] === 1) {
          hitAny = true;
          break;
        }
    mask[it] = hitAny === keepIfHit ? 1 : 0;
  }
  if (st.ruleMasks.size < 1024) st.ruleMasks.set(key, mask);
  return mask;
}
