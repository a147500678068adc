/**
 * One config drives the pipeline: `trainFromConfig` fits every model the channels use and saves
 * its artifact (plus the catalogue the service reads); `evaluateFromConfig` evaluates every
 * channel exactly as it is served (same query source, ANN index, seeds) and their merge, with
 * the full-ranking protocol (DESIGN §5).
 */
import { join } from "node:path";
import { userItemCsr } from "../data/matrix.ts";
import { resolveDataset } from "../data/resolve.ts";
import { RecallkitError } from "../errors.ts";
import { type ChannelReport, evaluateChannels } from "../eval/channels.ts";
import { writeFileAtomic } from "../io/artifact.ts";
import type { Csr } from "../math/csr.ts";
import { TopK } from "../math/topk.ts";
import type { Recommender, RecommendOptions } from "../recommender.ts";
import { createModel } from "../registry.ts";
import type { Dataset } from "../types.ts";
import { attributesOf, buildCatalogue, type Catalogue, csrRow, saveCatalogue } from "./catalogue.ts";
import { type Channel, sortedHas } from "./channel.ts";
import { catalogueDir, modelArtifact, precomputedDir, type RecallConfig } from "./config.ts";
import { precomputeLists, saveLists } from "./precomputed.ts";
import { loadState, precomputeK } from "./state.ts";

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
): Promise<{ dataset: string; catalogue: string; models: TrainedModel[] }> {
  const log = opts.log ?? (() => {});
  const ds = await datasetOf(config, opts);
  const cat = catalogueDir(config);
  await saveCatalogue(cat, buildCatalogue(ds, config.history.recentSize));
  log(`catalogue: ${ds.users.size} users, ${ds.items.size} items → ${cat}`);
  const ids = JSON.stringify({ dataset: ds.name, users: ds.users.ids(), items: ds.items.ids() });
  const out: TrainedModel[] = [];
  const fitted = new Map<string, Recommender>();
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
  return { dataset: ds.name, catalogue: cat, models: out };
}

/**
 * A served channel seen as a Recommender, so the evaluator scores it exactly as it serves: each
 * user's query is their training tail and attributes, the training items masked.
 */
export class ChannelRecommender implements Recommender {
  readonly kind = "channel";
  constructor(
    private readonly channel: Channel,
    private readonly cat: Catalogue,
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
        k: k + (ex === null ? 0 : Math.min(ex.offsets[u + 1] - ex.offsets[u], k)),
        seen: ex,
      });
      if (hits === null) continue;
      const seen = ex === null ? null : csrRow(ex, u);
      let c = 0;
      for (let j = 0; j < hits.ids.length && c < k; j++) {
        const it = hits.ids[j];
        if (seen !== null && sortedHas(seen, it)) continue;
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

/** Evaluates every enabled channel as served, and their merge. Models come from their artifacts. */
export async function evaluateFromConfig(
  config: RecallConfig,
  opts: PipelineOptions & { onProgress?: (label: string, done: number, total: number) => void } = {},
): Promise<{ dataset: string; channels: ChannelReport[]; merged: ChannelReport[] }> {
  const ds = await datasetOf(config, opts);
  const state = await loadState(config, 1, { dataset: ds });
  const channels = state.channels
    .filter((c) => c.when !== "cold")
    .map((c) => ({ name: c.name, model: new ChannelRecommender(c, state.catalogue) as Recommender }));
  const r = await evaluateChannels(ds, channels, {
    ks: config.eval.ks,
    mergeK: config.eval.mergeK ?? config.merge.k,
    strategies: config.eval.strategies,
    fit: false,
    ...(opts.log === undefined ? {} : { onLog: opts.log }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
  });
  return { dataset: ds.name, ...r };
}
