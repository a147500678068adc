/**
 * `recall.yaml`: the one file that drives the pipeline — dataset, models (with parameters and
 * artifact directories), channels (kind/name, quota, timeout, query source), merge, filters,
 * store and server. This zod schema is the single place every default lives (fastify: options
 * validated at startup); a bad file stops startup with RK_ERR_CONFIG and the path of the field.
 *
 * @example
 * const config = await loadConfig("examples/recall.yaml");
 * const svc = await createService(config);
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { RecallkitError } from "../errors.ts";
import { parseSpec } from "../index/spec.ts";
import type { Recommender } from "../recommender.ts";
import { modelNames } from "../registry.ts";

const int = (min: number, max: number) => z.int().min(min).max(max);

/** A model trained once and shared by every channel that names it. */
export const ModelConfigSchema = z.strictObject({
  /** Registry name: popular, inverted-index, itemcf, usercf, als, ... (`recallkit train --help`). */
  type: z.string().min(1),
  /** Options passed to the model's constructor (unknown ones are rejected by the registry). */
  params: z.record(z.string(), z.unknown()).default({}),
  /** Artifact directory; default `<artifacts>/<model key>`. Relative paths resolve from the config file. */
  artifact: z.string().optional(),
});

const isRecommender = (v: unknown): v is Recommender =>
  typeof v === "object" && v !== null && typeof (v as Recommender).recommend === "function";

/** How a channel forms its query (spec §5.2.3: the query side is computed online). */
export const ChannelSourceSchema = z.enum(["user", "recent", "attributes"]);
export type ChannelSource = z.infer<typeof ChannelSourceSchema>;

export const ChannelConfigSchema = z.strictObject({
  /** Key of `models` (or, from code, a fitted Recommender). */
  model: z.union([z.string().min(1), z.custom<Recommender>(isRecommender, "expected a model key")]),
  /**
   * "user": the model's own user path (recommend for known users; from the recent history for
   * unknown ones). "recent": I2I from the user's recent items. "attributes": user attributes /
   * request userFeatures (attribute inverted index cold start).
   */
  source: ChannelSourceSchema.default("user"),
  /** "model": the model answers. "ann": an ANN index over the model's item vectors answers. */
  retrieval: z.enum(["model", "ann"]).default("model"),
  /** ANN index spec (retrieval ann): "Flat" or "HNSW<M>[,efC=<n>][,ef=<n>]". */
  index: z
    .string()
    .default("HNSW32,ef=64")
    .superRefine((s, ctx) => {
      try {
        parseSpec(s);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    }),
  /** ANN metric (retrieval ann). */
  metric: z.enum(["ip", "cosine", "l2"]).default("ip"),
  /** Quota: the most items this channel contributes before merging. */
  k: int(1, 10_000).default(100),
  /** A channel slower than this is dropped from the response with a warning. */
  timeoutMs: z.number().positive().max(60_000).default(50),
  /** Which users the channel serves: everyone, known users only, or the cold-start path only. */
  when: z.enum(["always", "known", "cold"]).default("always"),
  /** Most recent items used as seeds (source recent, and unknown users on source user). */
  seeds: int(1, 1000).default(20),
  /**
   * Source user only: compute each known user's list offline (`recallkit train --config`) and
   * serve it by lookup; unknown users still go to the model. The classic U2I serving shape.
   */
  precompute: z.boolean().default(false),
  enabled: z.boolean().default(true),
});
export type ChannelConfig = z.infer<typeof ChannelConfigSchema>;

/** A business rule on an item attribute: keep items whose `field` has a value in `in`, drop those in `notIn`. */
export const RuleSchema = z
  .strictObject({
    field: z.string().min(1),
    in: z.array(z.string()).min(1).optional(),
    notIn: z.array(z.string()).min(1).optional(),
  })
  .refine((r) => (r.in === undefined) !== (r.notIn === undefined), {
    message: 'a rule needs exactly one of "in" or "notIn"',
  });
export type Rule = z.infer<typeof RuleSchema>;

export const FiltersSchema = z.strictObject({
  /** Drop items the user has seen (training history, online events, request recentItems). */
  excludeSeen: z.boolean().default(true),
  /** Rules applied to every request (requests may add their own). */
  rules: z.array(RuleSchema).default([]),
});

const RedisStoreSchema = z.strictObject({
  type: z.literal("redis"),
  url: z.string().default("redis://127.0.0.1:6379"),
  /** Key prefix; keys are `<prefix>{<user>}:recent` (hash-tagged for Redis Cluster). */
  prefix: z.string().default("rk:"),
  /** A Redis command slower than this counts as a failure. */
  commandTimeoutMs: int(1, 60_000).default(50),
  /** When Redis fails: keep serving from the in-process store ("embedded") or answer 503 ("fail"). */
  fallback: z.enum(["embedded", "fail"]).default("embedded"),
  /**
   * Precomputed lists of a version no replica has loaded for this long are deleted from Redis
   * after a load or reload (replicas still on such a version read their in-process copy).
   */
  keepOldListsMs: int(0, 7 * 24 * 3600_000).default(60_000),
});
const EmbeddedStoreSchema = z.strictObject({ type: z.literal("embedded") });

export const StoreSchema = z.preprocess(
  (v) => (typeof v === "string" ? { type: v } : v),
  z.discriminatedUnion("type", [EmbeddedStoreSchema, RedisStoreSchema]),
);
export type StoreConfig = z.infer<typeof StoreSchema>;
export type RedisStoreConfig = z.infer<typeof RedisStoreSchema>;

const CHANNEL_NAME = /^[a-z0-9]+\/[A-Za-z0-9._-]+$/;

export const ConfigSchema = z
  .strictObject({
    /** Dataset name or path (train/eval; the service reads the catalogue artifact instead). */
    dataset: z.string().optional(),
    /** Where named datasets live (default $RECALLKIT_DATA). */
    dataDir: z.string().optional(),
    /** Root of every artifact (the catalogue and each model's default directory). */
    artifacts: z.string().default("artifacts/recall"),
    models: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/, "model keys are [A-Za-z0-9_-]+"), ModelConfigSchema)
      .default({}),
    channels: z
      .record(
        z.string().regex(CHANNEL_NAME, 'channel names are "kind/name", e.g. "u2i/itemcf"'),
        ChannelConfigSchema,
      )
      .refine((c) => Object.keys(c).length > 0, "at least one channel is needed"),
    merge: z
      .strictObject({
        /** roundRobin (spec Code 5-2) or priority (Code 5-1, channel order). */
        strategy: z.enum(["roundRobin", "priority"]).default("roundRobin"),
        /** Final size when a request gives no k. */
        k: int(1, 100_000).default(200),
        /** A channel whose next item is already merged keeps popping (true) or spends its turn. */
        skipDuplicates: z.boolean().default(true),
        /**
         * Round robin: pops per round by channel name (default 1 each; 0.5 = every other round,
         * 0 mutes a channel). Served and evaluated alike.
         */
        weights: z.record(z.string(), z.number().min(0).max(1000)).optional(),
      })
      .prefault({}),
    filters: FiltersSchema.prefault({}),
    history: z
      .strictObject({
        /** Recent items kept per user (training tail + online events). */
        recentSize: int(1, 10_000).default(50),
      })
      .prefault({}),
    request: z
      .strictObject({
        /** Largest k a request may ask for. */
        maxK: int(1, 100_000).default(1000),
        /** Most recentItems / event items one request may carry. */
        maxItems: int(1, 100_000).default(500),
        /** Unknown item ids in a request: 400 ("reject") or dropped with a warning ("ignore"). */
        unknownItems: z.enum(["reject", "ignore"]).default("reject"),
        /** Channels fetch quota·overfetch (+ exclusions) items so filters leave enough. */
        overfetch: z.number().min(1).max(100).default(1.5),
      })
      .prefault({}),
    store: StoreSchema.default({ type: "embedded" }),
    server: z
      .strictObject({
        host: z.string().default("127.0.0.1"),
        port: int(0, 65_535).default(8080),
        logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
        bodyLimitBytes: int(1024, 64 << 20).default(1 << 20),
      })
      .prefault({}),
    admin: z
      .strictObject({
        /** POST /admin/reload (and SIGHUP under `recallkit serve`). */
        reload: z.boolean().default(true),
        /** When set, admin routes need `authorization: Bearer <token>`. */
        token: z.string().optional(),
      })
      .prefault({}),
    eval: z
      .strictObject({
        ks: z.array(int(1, 100_000)).min(1).default([20, 100]),
        /** Size of the merged list evaluated (default merge.k). */
        mergeK: int(1, 100_000).optional(),
        strategies: z
          .array(z.enum(["roundRobin", "priority"]))
          .min(1)
          .default(["roundRobin"]),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    const known = modelNames();
    for (const [key, m] of Object.entries(c.models))
      if (!known.includes(m.type))
        ctx.addIssue({
          code: "custom",
          path: ["models", key, "type"],
          message: `unknown model type "${m.type}"; known: ${known.join(", ")}`,
        });
    for (const name of Object.keys(c.merge.weights ?? {}))
      if (!(name in c.channels))
        ctx.addIssue({
          code: "custom",
          path: ["merge", "weights", name],
          message: `no channel "${name}" (have: ${Object.keys(c.channels).join(", ")})`,
        });
    for (const [name, ch] of Object.entries(c.channels)) {
      if (ch.precompute && (ch.source !== "user" || ch.retrieval !== "model"))
        ctx.addIssue({
          code: "custom",
          path: ["channels", name, "precompute"],
          message: 'precompute needs source "user" and retrieval "model"',
        });
      const prior = typeof ch.model === "string" ? c.models[ch.model]?.params.popularityPrior : undefined;
      if (ch.retrieval === "ann" && prior !== undefined && ch.metric !== "ip")
        ctx.addIssue({
          code: "custom",
          path: ["channels", name, "metric"],
          message: `model "${ch.model}" has popularityPrior ${String(prior)}: its score is an inner product over the augmented vectors; use metric "ip"`,
        });
      if (typeof ch.model === "string" && !(ch.model in c.models))
        ctx.addIssue({
          code: "custom",
          path: ["channels", name, "model"],
          message: `no model "${ch.model}" under models (have: ${Object.keys(c.models).join(", ") || "none"})`,
        });
    }
  });

/** A validated config: every default filled in. */
export type RecallConfig = z.infer<typeof ConfigSchema>;
/** What a caller may write: defaults optional. */
export type RecallConfigInput = z.input<typeof ConfigSchema>;

/** "channels."u2i/x".k: message" — the field path as a user would find it in the file. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) =>
      typeof p === "number"
        ? `[${p}]`
        : /^[A-Za-z_$][\w$]*$/.test(String(p))
          ? `${i === 0 ? "" : "."}${String(p)}`
          : `${i === 0 ? "" : "."}"${String(p)}"`,
    )
    .join("");
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const where = i.path.length === 0 ? "(root)" : issuePath(i.path);
      // A bad record key: say why, not just "Invalid key in record".
      const msg =
        i.code === "invalid_key" ? `bad name (${i.issues.map((x) => x.message).join("; ")})` : i.message;
      return `${where}: ${msg}`;
    })
    .join("; ");
}

/**
 * Validates a config object; `source` names the file in errors. Relative paths (artifacts,
 * model artifacts, dataset paths that exist as folders) resolve from `baseDir`.
 */
export function parseConfig(input: unknown, source = "config", baseDir?: string): RecallConfig {
  const r = ConfigSchema.safeParse(input);
  if (!r.success) throw new RecallkitError("RK_ERR_CONFIG", `${source}: ${formatIssues(r.error.issues)}`);
  const c = r.data;
  if (baseDir === undefined) return c;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...c,
    artifacts: abs(c.artifacts),
    models: Object.fromEntries(
      Object.entries(c.models).map(([k, m]) => [
        k,
        m.artifact === undefined ? m : { ...m, artifact: abs(m.artifact) },
      ]),
    ),
    ...(c.dataDir === undefined ? {} : { dataDir: abs(c.dataDir) }),
    ...(c.dataset !== undefined && /^\.{0,2}\//.test(c.dataset) ? { dataset: abs(c.dataset) } : {}),
  };
}

/** Reads and validates a YAML (or JSON) config file. */
export async function loadConfig(path: string): Promise<RecallConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new RecallkitError("RK_ERR_CONFIG", `${path}: cannot read (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new RecallkitError("RK_ERR_CONFIG", `${path}: not valid YAML (${(err as Error).message})`);
  }
  return parseConfig(raw, path, dirname(resolve(path)));
}

/** A model's artifact directory. */
export function modelArtifact(config: RecallConfig, key: string): string {
  return config.models[key]?.artifact ?? join(config.artifacts, key);
}

/** The catalogue artifact (ids, histories, attributes) the service reads. */
export function catalogueDir(config: RecallConfig): string {
  return join(config.artifacts, "catalogue");
}

/** Where a precomputed channel's lists live: `<artifacts>/precomputed/<kind>__<name>`. */
export function precomputedDir(config: RecallConfig, channel: string): string {
  return join(config.artifacts, "precomputed", channel.replace("/", "__"));
}

/** The configured merge weights restricted to the channels present (the others are not merged). */
export function servedWeights(
  config: RecallConfig,
  lists: readonly { name: string }[],
): Record<string, number> | undefined {
  const w = config.merge.weights;
  if (w === undefined) return undefined;
  const names = new Set(lists.map((l) => l.name));
  return Object.fromEntries(Object.entries(w).filter(([n]) => names.has(n)));
}

/** Every default, as `recallkit serve --print-defaults` shows them. */
export function defaultConfig(): RecallConfig {
  return ConfigSchema.parse({
    models: { popular: { type: "popular" } },
    channels: { "u2i/popular": { model: "popular" } },
  });
}
