/**
 * The HTTP API's request and response shapes: zod schemas validate requests (400 naming the
 * field) and feed the OpenAPI document, so the two never drift apart.
 */
import { z } from "zod";
import { RuleSchema } from "./config.ts";
import { badRequest } from "./errors.ts";

const id = z.string().min(1).max(256);

export interface Limits {
  readonly maxK: number;
  readonly maxItems: number;
}

export function recallRequestSchema(l: Limits) {
  return z.strictObject({
    /** External user id; a user the models have not seen takes the cold-start path. */
    user: id,
    /** Size of the merged list (default merge.k). */
    k: z.int().min(1).max(l.maxK).optional(),
    /** Items the user just interacted with (most recent last), on top of the stored history. */
    recentItems: z.array(id).max(l.maxItems).optional(),
    /** User attributes for the cold-start channels, e.g. { "gender": "F", "age": ["25-34"] }. */
    userFeatures: z.record(z.string().min(1), z.union([id, z.array(id).max(100)])).optional(),
    filters: z
      .strictObject({
        /** Drop seen items (default filters.excludeSeen of the config). */
        excludeSeen: z.boolean().optional(),
        /** Attribute rules added to the configured ones. */
        rules: z.array(RuleSchema).max(20).optional(),
        /** Items never returned. */
        excludeItems: z.array(id).max(l.maxItems).optional(),
      })
      .optional(),
    /** Run only these channels (names as in GET /v1/channels). */
    channels: z.array(z.string()).max(100).optional(),
  });
}
export type RecallRequest = z.infer<ReturnType<typeof recallRequestSchema>>;

export function eventsRequestSchema(l: Limits) {
  return z.strictObject({
    user: id,
    /** Items the user interacted with, oldest first; they join the recent history at once. */
    items: z.array(id).min(1).max(l.maxItems),
    /** Event name (click, view, purchase, ...), recorded for the log only. */
    event: z.string().max(64).optional(),
  });
}
export type EventsRequest = z.infer<ReturnType<typeof eventsRequestSchema>>;

export function similarQuerySchema(l: Limits) {
  return z.strictObject({
    k: z.coerce.number().int().min(1).max(l.maxK).optional(),
    /** Model key (default: the first model with item similarity). */
    model: z.string().optional(),
  });
}

/** Parses `input` or throws a 400 naming the first bad field (`where` prefixes the path). */
export function validate<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  if (input === undefined || input === null) {
    if (where === "body") throw badRequest("body", "missing; send a JSON object");
  }
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const msgs = r.error.issues.slice(0, 5).map((i) => {
    const path = i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    let msg = i.message;
    if (i.code === "unrecognized_keys") msg = `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(", ")}`;
    return `${where}${path}: ${msg}`;
  });
  const first = msgs[0] ?? `${where}: invalid`;
  const colon = first.indexOf(": ");
  throw badRequest(first.slice(0, colon), [first.slice(colon + 2), ...msgs.slice(1)].join("; "));
}

export interface ProvenanceOut {
  readonly channel: string;
  readonly rank: number;
  readonly score: number;
}

export interface RecallItemOut {
  readonly item: string;
  readonly insertedBy: string;
  readonly channels: ProvenanceOut[];
}

export interface ChannelReportOut {
  readonly name: string;
  /** ok | empty (nothing to say for this user) | skipped (not on this path) | error | timeout */
  readonly status: "ok" | "empty" | "skipped" | "error" | "timeout";
  readonly ms: number;
  /** Items the channel returned, and how many survived the filters (up to its quota). */
  readonly returned: number;
  readonly kept: number;
  readonly warning?: string;
}

export interface RecallResponse {
  readonly user: string;
  readonly path: "known" | "cold";
  readonly k: number;
  readonly items: RecallItemOut[];
  readonly channels: ChannelReportOut[];
  readonly warnings: string[];
  readonly context: {
    readonly recentItems: string[];
    readonly attributes: Record<string, readonly string[]>;
    readonly excludeSeen: boolean;
    readonly store: string;
  };
  readonly stateVersion: number;
  readonly ms: number;
}
