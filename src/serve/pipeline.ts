/**
 * One config drives the pipeline: `trainFromConfig` fits every model the channels use and saves
 * its artifact (plus the catalogue the service reads); `evaluateFromConfig` evaluates every
 * channel exactly as it is served (same query source, ANN index, seeds) and their merge, with
 * the full-ranking protocol (DESIGN §5).
 */
import { join } from "node:path";
import { userItemCsr } from "../data/matrix.ts";
import { resolveDataset } from "../data/resolve.ts";
import { assert, RecallkitError } from "../errors.ts";
import { type ChannelReport, evaluateChannels, recommendAll, testUsers } from "../eval/channels.ts";
import { evaluateTopK } from "../eval/evaluate.ts";
import { writeFileAtomic } from "../io/artifact.ts";
import type { Csr } from "../math/csr.ts";
import { TopK } from "../math/topk.ts";
import { mergeTopK } from "../recall/merge.ts";
import type { Recommender, RecommendOptions } from "../recommender.ts";
import { createModel } from "../registry.ts";
import type { Dataset } from "../types.ts";
import { annIndexDir, annKey, annSource, buildAnnIndex, saveAnnIndex } from "./ann.ts";
import { attributesOf, buildCatalogue, type Catalogue, csrRow, saveCatalogue } from "./catalogue.ts";
import { type Channel, sortedHas } from "./channel.ts";
import { catalogueDir, modelArtifact, precomputedDir, type RecallConfig, servedWeights } from "./config.ts";
import { precomputeLists, saveLists } from "./precomputed.ts";
import { loadState, precomputeK, ruleMask, type ServingState } from "./state.ts";

export interface PipelineOptions {
  /** Use this dataset instead of resolving config.dataset. */
  readonly dataset?: Dataset;
  readonly log?: (msg: string) => void;
}

export async function datasetOf(config: RecallConfig, opts: PipelineOptions = {}): Promise<Dataset> {
  if (opts.dataset !== undefined) return opts.dataset;
  if (config.dataset === undefined)
    throw new RecallkitError(
      "RK_ERR_CONFIG",
      'config: "dataset" is needed to train or evaluate (e.g. dataset: synthetic)',
    );
  return resolveDataset(config.dataset, config.dataDir === undefined ? {} : { dataDir: config.dataDir });
}

/** Model keys that enabled channels use, in config order. */
export function usedModels(config: RecallConfig): string[] {
  const keys = new Set<string>();
  for (const ch of Object.values(config.channels))
    if (ch.enabled && typeof ch.model === "string") keys.add(ch.model);
  return [...keys];
}

export interface TrainedModel {
  readonly key: string;
  readonly type: string;
  readonly dir: string;
  readonly seconds: number;
  readonly params: Record<string, unknown>;
}

/** Fits and saves every model the channels use, and the catalogue. */
export async function trainFromConfig(
  config: RecallConfig,
  opts: PipelineOptions & { only?: readonly string[] } = {},
): Promise<{ dataset: string; catalogue: string; models: TrainedModel[]; indexes: string[] }> {
  const log = opts.log ?? (() => {});
  const ds = await datasetOf(config, opts);
  const cat = catalogueDir(config);
  await saveCatalogue(cat, buildCatalogue(ds, config.history.recentSize));
  log(`catalogue: ${ds.users.size} users, ${ds.items.size} items → ${cat}`);
  const ids = JSON.stringify({ dataset: ds.name, users: ds.users.ids(), items: ds.items.ids() });
  const out: TrainedModel[] = [];
  const fitted = new Map<string, Recommender>();
  const indexes: string[] = [];
  for (const key of usedModels(config)) {
    if (opts.only !== undefined && !opts.only.includes(key)) continue;
    const m = config.models[key];
    const model = createModel(m.type, m.params);
    const t0 = performance.now();
    log(`${key} (${m.type}): fitting`);
    await model.fit(ds);
    const seconds = (performance.now() - t0) / 1000;
    const dir = modelArtifact(config, key);
    await model.save(dir);
    await writeFileAtomic(join(dir, "ids.json"), ids);
    log(`${key} (${m.type}): ${seconds.toFixed(1)}s → ${dir}`);
    out.push({ key, type: m.type, dir, seconds, params: model.params() });
    fitted.set(key, model);
  }
  // ANN indexes over the item vectors, one per model × spec × metric, so the service opens them
  // instead of building HNSW on every start and reload.
  const built = new Set<string>();
  for (const ch of Object.values(config.channels)) {
    if (!ch.enabled || ch.retrieval !== "ann" || typeof ch.model !== "string") continue;
    const model = fitted.get(ch.model);
    const key = annKey(ch.model, ch.index, ch.metric);
    if (model?.embeddings === undefined || built.has(key)) continue;
    built.add(key);
    const t0 = performance.now();
    const emb = model.embeddings();
    const src = annSource(ch.model, ch.index, ch.metric, emb.items, emb.dim);
    const dir = annIndexDir(config, ch.model, ch.index, ch.metric);
    await saveAnnIndex(dir, buildAnnIndex(src, emb.items), src);
    indexes.push(dir);
    log(
      `${key}: ANN index over ${src.items} items in ${((performance.now() - t0) / 1000).toFixed(1)}s → ${dir}`,
    );
  }
  // Precomputed U2I lists for the channels that ask for them (batch scoring, seen items masked).
  let seen: Csr | null = null;
  for (const [name, ch] of Object.entries(config.channels)) {
    if (!ch.enabled || !ch.precompute || typeof ch.model !== "string") continue;
    const model = fitted.get(ch.model);
    if (model === undefined) continue; // not retrained in this run (--model filter)
    seen ??= userItemCsr(ds.train, ds.users.size, ds.items.size);
    const t0 = performance.now();
    const lists = await precomputeLists(name, model, ds.users.size, precomputeK(config, ch.k), seen);
    await saveLists(precomputedDir(config, name), lists, ch.model);
    log(
      `${name}: precomputed top-${lists.k} for ${ds.users.size} users in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    );
  }
  return { dataset: ds.name, catalogue: cat, models: out, indexes };
}

/**
 * A served channel seen as a Recommender, so the evaluator scores it exactly as it serves: each
 * user's query is their training tail and attributes, the training items masked.
 */
export class ChannelRecommender implements Recommender {
  readonly kind = "channel";
  /**
   * `rules`: item keep-masks (the config's business rules) applied to the list as the service
   * applies them, with `overfetch` × k asked of the channel so the filters leave enough.
   */
  constructor(
    private readonly channel: Channel,
    private readonly cat: Catalogue,
    private readonly rules: readonly Uint8Array[] = [],
    private readonly overfetch = 1,
  ) {}

  async fit(): Promise<this> {
    return this;
  }

  params(): Record<string, unknown> {
    return { channel: this.channel.name, describe: this.channel.describe };
  }

  async recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): Promise<TopK> {
    const out = new TopK(users.length, k);
    const ex: Csr | null = opts.exclude ?? null;
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const hits = await this.channel.run({
        user: u,
        recent: csrRow(this.cat.recent, u),
        attributes: attributesOf(this.cat.userAttributes, u),
        // What the service asks for (channels mask the seen items at the source).
        k: Math.min(this.cat.items.size, Math.ceil(k * (this.rules.length > 0 ? this.overfetch : 1))),
        seen: ex,
      });
      if (hits === null) continue;
      const seen = ex === null ? null : csrRow(ex, u);
      let c = 0;
      for (let j = 0; j < hits.ids.length && c < k; j++) {
        const it = hits.ids[j];
        if (seen !== null && sortedHas(seen, it)) continue;
        if (this.rules.some((m) => m[it] === 0)) continue;
        out.ids[r * k + c] = it;
        out.scores[r * k + c] = hits.scores[j];
        c++;
      }
      out.counts[r] = c;
    }
    return out;
  }

  async save(): Promise<void> {
    throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", "a served channel has no artifact of its own");
  }
}

/**
 * Evaluates every enabled channel as served, and their merge as served: each channel's list
 * filtered (seen items, the config's rules), cut to its quota `min(k, merge size)`, and merged
 * with the configured strategy, `skipDuplicates` and `weights` (`eval.strategies` adds others
 * for comparison; the served one is marked `served: true`). Models come from their artifacts.
 */
export async function evaluateFromConfig(
  config: RecallConfig,
  opts: PipelineOptions & {
    onProgress?: (label: string, done: number, total: number) => void;
    /** Each channel's, then each merge's report, as soon as it is measured. */
    onReport?: (r: ChannelReport, dataset: string) => void;
  } = {},
): Promise<{ dataset: string; channels: ChannelReport[]; merged: ChannelReport[] }> {
  const ds = await datasetOf(config, opts);
  assert(ds.test !== null, () => `dataset "${ds.name}" has no test split to evaluate on`);
  const state = await loadState(config, 1, { dataset: ds });
  const channels = channelRecommenders(config, state);
  const mergeK = config.eval.mergeK ?? config.merge.k;
  const ks = [...new Set([...config.eval.ks, mergeK])].sort((a, b) => a - b);
  const r = await evaluateChannels(ds, channels, {
    ks,
    mergeK: 0, // merged below, with quotas
    fit: false,
    ...(opts.log === undefined ? {} : { onLog: opts.log }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    ...(opts.onReport === undefined ? {} : { onReport: (c: ChannelReport) => opts.onReport?.(c, ds.name) }),
  });
  const nU = ds.users.size;
  const nI = ds.items.size;
  const train = userItemCsr(ds.train, nU, nI);
  const test = userItemCsr(ds.test, nU, nI);
  const users = testUsers(test);
  const { lists, quotas } = await servedLists(config, state, users, mergeK);
  const weights = servedWeights(config, lists);
  const merged: ChannelReport[] = [];
  const strategies = [...new Set([config.merge.strategy, ...config.eval.strategies])];
  for (const strategy of strategies) {
    if (lists.length === 0) break;
    const t0 = performance.now();
    const m = mergeTopK(lists, mergeK, {
      strategy,
      skipDuplicates: config.merge.skipDuplicates,
      ...(weights === undefined ? {} : { weights }),
    });
    const e = evaluateTopK(m, users, train, test, { ks });
    const report: ChannelReport = {
      name: `merge/${strategy}`,
      params: {
        strategy,
        served: strategy === config.merge.strategy,
        k: mergeK,
        quotas,
        skipDuplicates: config.merge.skipDuplicates,
        ...(weights === undefined ? {} : { weights }),
      },
      users: e.users,
      metrics: e.metrics,
      seconds: { train: 0, eval: (performance.now() - t0) / 1000 },
    };
    merged.push(report);
    opts.onReport?.(report, ds.name);
    opts.log?.(
      `merge/${strategy}: recall@${ks[0]}=${e.metrics[`recall@${ks[0]}`]?.toFixed(4)} (quotas ${Object.values(quotas).join("/")})`,
    );
  }
  return { dataset: ds.name, channels: r.channels, merged };
}

/** Every channel a known user gets, as a Recommender that answers exactly as the service does. */
export function channelRecommenders(
  config: RecallConfig,
  state: ServingState,
): { name: string; quota: number; model: Recommender }[] {
  const rules = config.filters.rules.map((r, i) => ruleMask(state, r, `filters.rules[${i}]`));
  return state.channels
    .filter((c) => c.when !== "cold")
    .map((c) => ({
      name: c.name,
      quota: c.quota,
      model: new ChannelRecommender(c, state.catalogue, rules, config.request.overfetch) as Recommender,
    }));
}

/**
 * Each channel's lists for `users` as the merge of a `mergeK` request sees them: filtered, cut
 * to the quota `min(k, mergeK)`. Merge them with `mergeTopK` and the configured options.
 */
export async function servedLists(
  config: RecallConfig,
  state: ServingState,
  users: Int32Array,
  mergeK: number,
): Promise<{ lists: { name: string; lists: TopK }[]; quotas: Record<string, number> }> {
  const lists: { name: string; lists: TopK }[] = [];
  const quotas: Record<string, number> = {};
  const seen = state.catalogue.seen;
  for (const c of channelRecommenders(config, state)) {
    const quota = Math.min(c.quota, mergeK);
    quotas[c.name] = quota;
    lists.push({ name: c.name, lists: TopK.concat(await recommendAll(c.model, users, quota, seen)) });
  }
  return { lists, quotas };
}
