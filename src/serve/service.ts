/**
 * The recall service without HTTP: one request runs the applicable channels concurrently, each
 * under its timeout, filters their lists (seen items, business rules), merges them with
 * provenance (spec §5.1.4, `recall/merge.ts`) and reports per-channel timings. A channel that
 * throws or passes its timeout is left out with a warning; it never fails the request.
 *
 * Timeouts: a channel that awaits (worker threads, Redis) is abandoned when its timer fires; a
 * channel that computes synchronously cannot be pre-empted in JavaScript, so it runs to the end
 * and its result is discarded when it took longer than its timeout.
 */
import { mergeChannels } from "../recall/merge.ts";
import type {
  ChannelReportOut,
  EventsRequest,
  ProvenanceOut,
  RecallItemOut,
  RecallRequest,
  RecallResponse,
} from "./api.ts";
import { attributesOf, csrRow } from "./catalogue.ts";
import { type Channel, type ChannelHits, type ChannelQuery, sortedHas } from "./channel.ts";
import { type RecallConfig, servedWeights } from "./config.ts";
import { badRequest, ServeError } from "./errors.ts";
import type { ServiceMetrics } from "./metrics.ts";
import { loadState, ruleMask, type ServingState, type StateSources } from "./state.ts";
import type { OnlineStore } from "./store.ts";

interface Outcome {
  readonly report: ChannelReportOut;
  readonly hits: ChannelHits | null;
}

class ChannelTimeout extends Error {}

export interface ReloadResult {
  readonly version: number;
  readonly loadedAt: string;
  readonly seconds: number;
  /** Each ANN index: opened from its artifact, or built (with the reason). */
  readonly annIndexes: readonly { key: string; origin: string; reason?: string; seconds: number }[];
  /** Redis: old precomputed-list versions deleted after the swap, by channel (or why not). */
  readonly retiredLists?: Readonly<Record<string, readonly string[] | string>>;
}

export class RecallService {
  private current: ServingState;
  private reloading: Promise<ReloadResult> | null = null;
  private readonly channelMetrics = new Map<
    string,
    {
      time: ReturnType<ServiceMetrics["channel"]["labels"]>;
      outcomes: Map<string, ReturnType<ServiceMetrics["channelOutcomes"]["labels"]>>;
    }
  >();

  constructor(
    readonly config: RecallConfig,
    state: ServingState,
    readonly store: OnlineStore,
    readonly metrics: ServiceMetrics,
    private readonly sources: StateSources = {},
  ) {
    this.current = state;
    metrics.stateVersion.set(state.version);
  }

  /** The state requests read now (replaced whole by `reload`). */
  get state(): ServingState {
    return this.current;
  }

  /**
   * Re-reads every artifact into a new state and swaps it in; concurrent calls share one reload.
   * On failure the previous state keeps serving and the error is rethrown.
   */
  reload(): Promise<ReloadResult> {
    if (this.reloading !== null) return this.reloading;
    const run = async (): Promise<ReloadResult> => {
      try {
        const next = await loadState(
          this.config,
          this.current.version + 1,
          this.sources,
          this.store,
          this.current,
        );
        this.current = next; // the one atomic step: in-flight requests keep their snapshot
        this.metrics.reloads.inc({ result: "ok" });
        this.metrics.stateVersion.set(next.version);
        const retired = await this.retireOldLists();
        return {
          ...(retired === undefined ? {} : { retiredLists: retired }),
          version: next.version,
          loadedAt: next.loadedAt,
          seconds: next.loadSeconds,
          annIndexes: next.annIndexes.map((i) => ({
            key: i.key,
            origin: i.origin,
            ...(i.reason === undefined ? {} : { reason: i.reason }),
            seconds: Math.round(i.seconds * 1000) / 1000,
          })),
        };
      } catch (err) {
        this.metrics.reloads.inc({ result: "error" });
        throw new ServeError("RK_SERVE_RELOAD_FAILED", `reload failed: ${(err as Error).message}`, {
          cause: err,
        });
      } finally {
        this.reloading = null;
      }
    };
    this.reloading = run();
    return this.reloading;
  }

  /**
   * Redis store: deletes the precomputed-list versions of every shared channel that no replica
   * has loaded for `store.keepOldListsMs` (never the version this state serves). In-flight requests
   * of an older state that miss a deleted key read their in-process copy, so this is safe at any
   * time. Errors are reported, never thrown: the swap has happened.
   */
  async retireOldLists(): Promise<Record<string, readonly string[] | string> | undefined> {
    const shared = this.store.sharedLists;
    const st = this.current;
    if (shared === undefined || st.sharedLists.length === 0 || this.config.store.type !== "redis") return;
    const keepMs = this.config.store.keepOldListsMs;
    const out: Record<string, readonly string[] | string> = {};
    for (const l of st.sharedLists) {
      try {
        out[l.channel] = await shared.retire(l.channel, l.version, keepMs);
      } catch (err) {
        out[l.channel] = `failed: ${(err as Error).message}`;
      }
    }
    return out;
  }

  /** External item ids → dense indices; unknown ids are a 400 or dropped with a warning. */
  private itemIndices(
    st: ServingState,
    ids: readonly string[] | undefined,
    field: string,
    warnings: string[],
  ) {
    const out: number[] = [];
    if (ids === undefined) return out;
    const unknown: string[] = [];
    for (let j = 0; j < ids.length; j++) {
      const i = st.catalogue.items.indexOf(ids[j]);
      if (i >= 0) out.push(i);
      else if (this.config.request.unknownItems === "reject")
        throw new ServeError("RK_SERVE_UNKNOWN_ITEM", `${field}[${j}]: unknown item id "${ids[j]}"`);
      else unknown.push(ids[j]);
    }
    if (unknown.length > 0)
      warnings.push(
        `${field}: ${unknown.length} unknown item id(s) ignored (${unknown.slice(0, 5).join(", ")})`,
      );
    return out;
  }

  async recall(req: RecallRequest): Promise<RecallResponse> {
    const t0 = performance.now();
    const st = this.current; // one snapshot for the whole request
    const cat = st.catalogue;
    const cfg = this.config;
    const warnings: string[] = [];
    const k = req.k ?? cfg.merge.k;
    const user = cat.users.indexOf(req.user);
    const path = user >= 0 ? "known" : "cold";

    const reqRecent = this.itemIndices(st, req.recentItems, "recentItems", warnings);
    const excludeItems = this.itemIndices(st, req.filters?.excludeItems, "filters.excludeItems", warnings);
    const rules = [
      ...cfg.filters.rules.map((r, i) => ruleMask(st, r, `config filters.rules[${i}]`)),
      ...(req.filters?.rules ?? []).map((r, i) => ruleMask(st, r, `filters.rules[${i}]`)),
    ];
    const onlineIds = await this.store.recent(req.user, cfg.history.recentSize);
    const online: number[] = [];
    for (const id of onlineIds) {
      const i = cat.items.indexOf(id);
      if (i >= 0) online.push(i);
    }
    // Recent history, most recent last: training tail, then online events, then the request's.
    const tail = csrRow(cat.recent, user);
    const all = [...tail, ...online, ...reqRecent];
    const recent = Int32Array.from(all.slice(Math.max(0, all.length - cfg.history.recentSize)));

    const attributes: Record<string, readonly string[]> =
      user >= 0 ? attributesOf(cat.userAttributes, user) : {};
    for (const [f, v] of Object.entries(req.userFeatures ?? {}))
      attributes[f] = typeof v === "string" ? [v] : v;

    const excludeSeen = req.filters?.excludeSeen ?? cfg.filters.excludeSeen;
    const extra = new Set<number>(excludeItems);
    if (excludeSeen) {
      for (const i of online) extra.add(i);
      for (const i of reqRecent) extra.add(i);
    }
    const seenRow = excludeSeen ? csrRow(cat.seen, user) : new Int32Array(0);
    const drop = (it: number): boolean => {
      if (extra.has(it) || (seenRow.length > 0 && sortedHas(seenRow, it))) return true;
      for (let r = 0; r < rules.length; r++) if (rules[r][it] === 0) return true;
      return false;
    };

    const only = req.channels === undefined ? null : new Set(req.channels);
    if (only !== null)
      for (const n of only)
        if (!st.channels.some((c) => c.name === n))
          throw badRequest(
            "channels",
            `unknown channel "${n}" (have: ${st.channels.map((c) => c.name).join(", ")})`,
          );
    const factor = rules.length > 0 ? cfg.request.overfetch : 1;
    const runs = st.channels.map((ch): Outcome | Promise<Outcome> => {
      if (
        (only !== null && !only.has(ch.name)) ||
        (ch.when === "known" && user < 0) ||
        (ch.when === "cold" && user >= 0)
      )
        return { report: { name: ch.name, status: "skipped", ms: 0, returned: 0, kept: 0 }, hits: null };
      const quota = Math.min(ch.quota, k);
      const q: ChannelQuery = {
        user,
        recent,
        attributes,
        k: Math.min(cat.items.size, Math.ceil(quota * factor) + extra.size),
        seen: excludeSeen ? cat.seen : null,
      };
      return this.runChannel(ch, q);
    });
    // Synchronous channels have answered already; await only when some channel is asynchronous.
    const outcomes = runs.some((r) => r instanceof Promise) ? await Promise.all(runs) : (runs as Outcome[]);

    // Filter each list, cut it to its quota, merge round-robin (or by priority) with provenance.
    const lists: { name: string; ids: number[]; scores: number[] }[] = [];
    const reports: ChannelReportOut[] = [];
    for (let c = 0; c < outcomes.length; c++) {
      const { report, hits } = outcomes[c];
      if (report.warning !== undefined) warnings.push(`${report.name}: ${report.warning}`);
      if (hits === null) {
        reports.push(report);
        continue;
      }
      const quota = Math.min(st.channels[c].quota, k);
      const ids: number[] = [];
      const scores: number[] = [];
      for (let j = 0; j < hits.ids.length && ids.length < quota; j++) {
        const it = hits.ids[j];
        if (drop(it)) continue;
        ids.push(it);
        scores.push(hits.scores[j]);
      }
      reports.push({ ...report, kept: ids.length });
      lists.push({ name: report.name, ids, scores });
    }
    const weights = servedWeights(cfg, lists);
    const merged = mergeChannels(lists, k, {
      strategy: cfg.merge.strategy,
      skipDuplicates: cfg.merge.skipDuplicates,
      ...(weights === undefined ? {} : { weights }),
    });
    const byName = new Map(lists.map((l) => [l.name, l]));
    const items: RecallItemOut[] = merged.map((m) => ({
      item: cat.items.id(m.item),
      insertedBy: m.insertedBy,
      channels: m.channels.map(
        (p): ProvenanceOut => ({
          channel: p.channel,
          rank: p.rank,
          score: round6(byName.get(p.channel)?.scores[p.rank - 1] ?? 0),
        }),
      ),
    }));
    this.metrics.recallItems.observe(items.length);
    const health = this.store.health();
    if (health.degraded) warnings.push(`store: ${health.detail}`);
    return {
      user: req.user,
      path,
      k,
      items,
      channels: reports,
      warnings,
      context: {
        recentItems: Array.from(recent.subarray(Math.max(0, recent.length - 20)), (i) => cat.items.id(i)),
        attributes,
        excludeSeen,
        store: health.detail,
      },
      stateVersion: st.version,
      ms: round3(performance.now() - t0),
    };
  }

  /**
   * Runs one channel. A synchronous channel (in-process lookups and scoring) is called directly
   * and timed — no promise, timer or microtask per channel on the hot path; only a channel that
   * returns a promise (Redis) races a timer.
   */
  private runChannel(ch: Channel, q: ChannelQuery): Outcome | Promise<Outcome> {
    const started = performance.now();
    let r: ReturnType<Channel["run"]>;
    try {
      r = ch.run(q);
    } catch (err) {
      return this.outcome(ch, "error", performance.now() - started, null, err);
    }
    if (!(r instanceof Promise)) return this.settled(ch, performance.now() - started, r);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ChannelTimeout()), ch.timeoutMs);
    });
    return Promise.race([r, timeout]).then(
      (hits) => {
        clearTimeout(timer);
        return this.settled(ch, performance.now() - started, hits);
      },
      (err: unknown) => {
        clearTimeout(timer);
        return this.outcome(
          ch,
          err instanceof ChannelTimeout ? "timeout" : "error",
          performance.now() - started,
          null,
          err,
        );
      },
    );
  }

  /** A channel's answer after `ms`: kept, empty, or discarded for passing its timeout. */
  private settled(ch: Channel, ms: number, hits: ChannelHits | null): Outcome {
    if (ms > ch.timeoutMs) return this.outcome(ch, "timeout", ms, null);
    return this.outcome(ch, hits === null ? "empty" : "ok", ms, hits);
  }

  private outcome(
    ch: Channel,
    status: ChannelReportOut["status"],
    ms: number,
    hits: ChannelHits | null,
    err?: unknown,
  ): Outcome {
    // Label-bound children, cached: no label hashing per channel per request.
    let m = this.channelMetrics.get(ch.name);
    if (m === undefined) {
      m = { time: this.metrics.channel.labels({ channel: ch.name }), outcomes: new Map() };
      this.channelMetrics.set(ch.name, m);
    }
    m.time.observe(ms / 1000);
    let c = m.outcomes.get(status);
    if (c === undefined) {
      c = this.metrics.channelOutcomes.labels({ channel: ch.name, status });
      m.outcomes.set(status, c);
    }
    c.inc();
    const warning =
      status === "timeout"
        ? err instanceof ChannelTimeout
          ? `timed out after ${ch.timeoutMs} ms; skipped`
          : `took ${ms.toFixed(1)} ms, over its ${ch.timeoutMs} ms timeout; skipped`
        : status === "error"
          ? `failed (${(err as Error)?.message ?? String(err)}); skipped`
          : undefined;
    return {
      report: {
        name: ch.name,
        status,
        ms: round3(ms),
        returned: hits === null ? 0 : hits.ids.length,
        kept: 0,
        ...(warning === undefined ? {} : { warning }),
      },
      hits,
    };
  }

  /** I2I: the items most similar to one item, from a model with item similarity. */
  similarItems(itemId: string, k: number, modelKey?: string) {
    const st = this.current;
    const item = st.catalogue.items.indexOf(itemId);
    if (item < 0) throw new ServeError("RK_SERVE_ITEM_NOT_FOUND", `item "${itemId}" is not in the catalogue`);
    const candidates = [...st.models].filter(([, m]) => m.similarItems !== undefined);
    const pick = modelKey === undefined ? candidates[0] : candidates.find(([key]) => key === modelKey);
    if (pick === undefined)
      throw badRequest(
        "model",
        modelKey === undefined
          ? "no configured model has item similarity (itemcf, als, embedding models do)"
          : `"${modelKey}" is not a configured model with item similarity (have: ${candidates.map(([key]) => key).join(", ") || "none"})`,
      );
    const [key, model] = pick;
    const row = (model.similarItems as (i: Int32Array, k: number) => import("../math/topk.ts").TopK)
      .call(model, Int32Array.of(item), k)
      .row(0);
    return {
      item: itemId,
      model: key,
      items: Array.from(row.ids, (it, j) => ({
        item: st.catalogue.items.id(it),
        score: round6(row.scores[j]),
      })),
      stateVersion: st.version,
    };
  }

  /** Appends a user's new interactions to their recent history (visible to the next request). */
  async events(req: EventsRequest) {
    const st = this.current;
    const warnings: string[] = [];
    const idx = this.itemIndices(st, req.items, "items", warnings);
    const ids = idx.map((i) => st.catalogue.items.id(i));
    const size = ids.length === 0 ? 0 : await this.store.push(req.user, ids, this.config.history.recentSize);
    return { user: req.user, accepted: ids.length, onlineHistory: size, warnings };
  }

  /** Channels as configured, for GET /v1/channels and the web page. */
  channels() {
    return this.current.channels.map((c) => ({
      name: c.name,
      quota: c.quota,
      timeoutMs: c.timeoutMs,
      when: c.when,
      describe: c.describe,
    }));
  }

  ready(): { ready: boolean; store: string; version: number; channels: number } {
    const h = this.store.health();
    this.metrics.storeDegraded.set(h.degraded ? 1 : 0);
    return {
      ready: h.ok,
      store: h.detail,
      version: this.current.version,
      channels: this.current.channels.length,
    };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * x to 6 significant digits, as `Number(x.toPrecision(6))` gives but without building and
 * parsing a string (a tenth of a request's CPU with 100 items × their channels).
 */
export function round6(x: number): number {
  if (x === 0) return 0;
  if (!Number.isFinite(x)) return x;
  const e = 5 - Math.floor(Math.log10(Math.abs(x)));
  if (e >= 0 && e < POW10.length) {
    const p = POW10[e];
    return x < 0 ? -Math.round(-x * p) / p : Math.round(x * p) / p;
  }
  return Number(x.toPrecision(6));
}
