/**
 * The serving state: everything a request reads that comes from artifacts — catalogue, models,
 * channels, compiled rules. It is built completely (artifacts read, ANN indexes built) before it
 * replaces the previous one in a single assignment, so a hot reload never shows a request a
 * half-loaded state: requests that started earlier finish on the state they began with.
 * A reload reuses every part whose artifact directory is unchanged (`artifactFingerprint`), so
 * reloading the same artifacts parses nothing on the event loop; what is new is loaded, and each
 * channel and ANN index answers a warm-up query, before the swap.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
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
import { buildCatalogue, type Catalogue, csrRow, loadCatalogue } from "./catalogue.ts";
import { annChannel, type Channel, type ChannelQuery, modelChannel } from "./channel.ts";
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
  /**
   * What this state read from disk, by artifact directory fingerprint (file names, sizes, mtimes,
   * inodes): the next reload reuses every part whose directory did not change instead of parsing
   * it again on the event loop. Absent for parts handed over in `StateSources`.
   */
  readonly loaded: LoadedParts;
}

export interface LoadedParts {
  readonly catalogue?: { readonly fingerprint: string; readonly value: Catalogue };
  readonly models: ReadonlyMap<string, { readonly fingerprint: string; readonly value: Recommender }>;
  readonly lists: ReadonlyMap<
    string,
    { readonly fingerprint: string; readonly value: RecallLists; version?: string }
  >;
}

/**
 * A directory's fingerprint: every file's relative path, size, mtime and inode (async stats
 * only), or with `content` the SHA-256 of every file (the catalogue: `train --config` rewrites
 * it with the same content when it retrains one model). Artifacts are written to a temp
 * directory and renamed into place, so a retrained artifact always changes it; null when the
 * directory cannot be read.
 */
export async function artifactFingerprint(dir: string, content = false): Promise<string | null> {
  try {
    const names = (await readdir(dir, { recursive: true })).sort();
    const parts: string[] = [];
    for (const n of names) {
      const st = await stat(join(dir, n));
      if (!st.isFile()) continue;
      if (!content) parts.push(`${n}:${st.size}:${st.mtimeMs}:${st.ino}`);
      else if (n === "manifest.json") {
        // Its creation time changes with every write; the rest describes the content.
        const { createdAt: _, ...rest } = JSON.parse(await readFile(join(dir, n), "utf8"));
        parts.push(`${n}:${JSON.stringify(rest)}`);
      } else parts.push(`${n}:${await fileHash(join(dir, n))}`);
    }
    return content ? parts.join("|") : `${(await stat(dir)).ino}|${parts.join("|")}`;
  } catch {
    return null;
  }
}

/** SHA-256 of a file, streamed (64 KiB at a time, so the event loop keeps serving). */
function fileHash(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path)
      .on("data", (b) => h.update(b))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
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
  const before = previous?.loaded;
  const loaded: {
    catalogue?: { fingerprint: string; value: Catalogue };
    models: Map<string, { fingerprint: string; value: Recommender }>;
    lists: Map<string, { fingerprint: string; value: RecallLists; version?: string }>;
  } = { models: new Map(), lists: new Map() };
  const catFp = src.dataset === undefined ? await artifactFingerprint(catalogueDir(config), true) : null;
  const sameCatalogue =
    catFp !== null && before?.catalogue !== undefined && before.catalogue.fingerprint === catFp;
  if (src.dataset !== undefined) catalogue = buildCatalogue(src.dataset, config.history.recentSize);
  else if (sameCatalogue && before?.catalogue !== undefined) catalogue = before.catalogue.value;
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
  if (catFp !== null) loaded.catalogue = { fingerprint: catFp, value: catalogue };
  // Parts loaded from an unchanged directory are reused only when the catalogue is unchanged too
  // (they were checked against it).
  const reuse = <E extends { readonly fingerprint: string }>(
    m: ReadonlyMap<string, E> | undefined,
    key: string,
    fp: string | null,
  ): E | undefined => {
    const hit = sameCatalogue && fp !== null ? m?.get(key) : undefined;
    return hit !== undefined && hit.fingerprint === fp ? hit : undefined;
  };
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
      let have = models.get(key) ?? src.models?.[key];
      if (have === undefined) {
        const fp = await artifactFingerprint(modelArtifact(config, key));
        have = reuse(before?.models, key, fp)?.value ?? (await loadModelChecked(config, key, catalogue));
        if (fp !== null) loaded.models.set(key, { fingerprint: fp, value: have });
      }
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
      const listsFp = await artifactFingerprint(precomputedDir(config, name));
      const kept = reuse(before?.lists, name, listsFp);
      try {
        lists = kept?.value ?? (await loadLists(precomputedDir(config, name)));
        if (lists.offsets.length - 1 !== catalogue.users.size) throw new Error("built for other users");
        if (listsFp !== null) loaded.lists.set(name, { fingerprint: listsFp, value: lists });
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
        const part = loaded.lists.get(name);
        const v = part?.version ?? kept?.version ?? listsVersion(lists, catalogue.items.ids());
        if (part !== undefined) part.version = v;
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
  await warmChannels(channels, catalogue);
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
    // Masks depend on the catalogue's item attributes only.
    ruleMasks: sameCatalogue && previous !== undefined ? previous.ruleMasks : new Map(),
    loaded,
  };
}

const yieldToRequests = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Each channel answers a known and an unknown user once before the state serves, so lazy
 * set-up (scratch buffers, JIT of the scoring loops) is paid here and not by the first requests
 * after a start or reload (which could pass their channel timeouts). Failures are ignored here;
 * requests report them.
 */
async function warmChannels(channels: readonly Channel[], cat: Catalogue): Promise<void> {
  const nItems = cat.items.size;
  const recent = Int32Array.from({ length: Math.min(3, nItems) }, (_, i) => i);
  for (const ch of channels) {
    await yieldToRequests();
    const k = Math.min(nItems, ch.quota);
    const queries: ChannelQuery[] = [
      { user: -1, recent, attributes: {}, k, seen: null },
      ...(cat.users.size > 0
        ? [{ user: 0, recent: csrRow(cat.recent, 0), attributes: {}, k, seen: cat.seen }]
        : []),
    ];
    for (const q of queries) {
      try {
        const r = ch.run(q);
        if (r instanceof Promise) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            r.catch(() => null),
            new Promise((done) => {
              timer = setTimeout(done, ch.timeoutMs);
            }),
          ]);
          clearTimeout(timer);
        }
      } catch {
        // reported by the requests that meet it
      }
    }
  }
}

/**
 * One search before the index serves: lazily built parts (HNSW's norm head: a sort over every
 * item) are built here, during the load, not in the first request after the swap.
 */
async function warmIndex(index: AnnIndex): Promise<void> {
  if (index.size === 0) return;
  await yieldToRequests();
  index.search(new Float32Array(index.dim).fill(1), 1);
  await yieldToRequests();
}

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
  const dir = annIndexDir(config, modelKey, spec, metric);
  const key = annKey(modelKey, spec, metric);
  // A reload whose model did not change keeps the index it already serves (read-only, shareable):
  // the same model object (its artifact unchanged) without hashing, else the same item vectors.
  const prev = previous?.annCache.get(key);
  if (prev !== undefined && previous?.models.get(modelKey) === model)
    return {
      index: prev.index,
      source: prev.source,
      report: { key, channels: [], dir, origin: "reused", seconds: (performance.now() - t0) / 1000 },
    };
  const emb = (model.embeddings as NonNullable<Recommender["embeddings"]>).call(model);
  const src = annSource(modelKey, spec, metric, emb.items, emb.dim);
  if (prev !== undefined && sameSource(prev.source, src))
    return {
      index: prev.index,
      source: src,
      report: { key, channels: [], dir, origin: "reused", seconds: (performance.now() - t0) / 1000 },
    };
  await yieldToRequests();
  const opened = await openAnnIndex(dir, src);
  if ("index" in opened) {
    await warmIndex(opened.index);
    return {
      index: opened.index,
      source: src,
      report: { key, channels: [], dir, origin: "artifact", seconds: (performance.now() - t0) / 1000 },
    };
  }
  const index = buildAnnIndex(src, emb.items);
  await warmIndex(index);
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
