/** The OpenAPI 3.1 document (GET /openapi.json), with request bodies generated from the zod schemas. */
import { z } from "zod";
import { eventsRequestSchema, recallRequestSchema } from "./api.ts";
import type { RecallConfig } from "./config.ts";
import { ServeErrors } from "./errors.ts";

const json = (schema: unknown) => ({ "application/json": { schema } });
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  properties,
  required,
});
const str = { type: "string" };
const num = { type: "number" };
const int = { type: "integer" };

const errorBody = obj(
  {
    error: obj({ code: { type: "string", enum: Object.keys(ServeErrors) }, message: str, status: int }, [
      "code",
      "message",
      "status",
    ]),
  },
  ["error"],
);

const provenance = obj({ channel: str, rank: int, score: num }, ["channel", "rank", "score"]);
/** The 200 body of POST /v1/recall. */
export const recallResponseSchema = obj(
  {
    user: str,
    path: { type: "string", enum: ["known", "cold"] },
    k: int,
    items: {
      type: "array",
      items: obj({ item: str, insertedBy: str, channels: { type: "array", items: provenance } }, [
        "item",
        "insertedBy",
        "channels",
      ]),
    },
    channels: {
      type: "array",
      items: obj(
        {
          name: str,
          status: { type: "string", enum: ["ok", "empty", "skipped", "error", "timeout"] },
          ms: num,
          returned: int,
          kept: int,
          warning: str,
        },
        ["name", "status", "ms", "returned", "kept"],
      ),
    },
    warnings: { type: "array", items: str },
    context: obj({
      recentItems: { type: "array", items: str },
      attributes: { type: "object", additionalProperties: { type: "array", items: str } },
      excludeSeen: { type: "boolean" },
      store: str,
    }),
    stateVersion: int,
    ms: num,
  },
  ["user", "path", "k", "items", "channels", "warnings", "stateVersion", "ms"],
);

const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      { description: "error", content: json({ $ref: "#/components/schemas/Error" }) },
    ]),
  );

export function openApiDocument(config: RecallConfig): Record<string, unknown> {
  const limits = config.request;
  const schema = (s: z.ZodType) => {
    const { $schema: _, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<
      string,
      unknown
    >;
    return rest;
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "recallkit recall service",
      version: "0.1.0",
      description:
        "Multi-channel recall: each channel proposes items, the merge (round-robin, spec §5.1.4) keeps each once with provenance.",
    },
    paths: {
      "/v1/recall": {
        post: {
          summary: "Merged recall for a user, with provenance and per-channel timings",
          requestBody: { required: true, content: json(schema(recallRequestSchema(limits))) },
          responses: {
            "200": { description: "merged items", content: json(recallResponseSchema) },
            ...errors(400, 413, 415, 503),
          },
        },
      },
      "/v1/similar-items/{item}": {
        get: {
          summary: "Items most similar to one item",
          parameters: [
            { name: "item", in: "path", required: true, schema: str },
            { name: "k", in: "query", schema: { ...int, minimum: 1, maximum: limits.maxK } },
            { name: "model", in: "query", schema: str },
          ],
          responses: {
            "200": {
              description: "similar items",
              content: json(
                obj({
                  item: str,
                  model: str,
                  items: { type: "array", items: obj({ item: str, score: num }) },
                }),
              ),
            },
            ...errors(400, 404),
          },
        },
      },
      "/v1/events": {
        post: {
          summary: "Append a user's new interactions to their recent history",
          requestBody: { required: true, content: json(schema(eventsRequestSchema(limits))) },
          responses: {
            "200": {
              description: "accepted",
              content: json(
                obj({
                  user: str,
                  accepted: int,
                  onlineHistory: int,
                  warnings: { type: "array", items: str },
                }),
              ),
            },
            ...errors(400, 503),
          },
        },
      },
      "/v1/channels": {
        get: { summary: "Configured channels", responses: { "200": { description: "channels" } } },
      },
      "/healthz": { get: { summary: "Liveness", responses: { "200": { description: "alive" } } } },
      "/readyz": {
        get: {
          summary: "Readiness (state loaded, store reachable)",
          responses: { "200": { description: "ready" }, "503": { description: "not ready" } },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          responses: { "200": { description: "text exposition format" } },
        },
      },
      "/admin/reload": {
        post: {
          summary: "Hot reload: load every artifact again and swap the state atomically",
          responses: { "200": { description: "reloaded" }, ...errors(401, 500) },
        },
      },
    },
    components: { schemas: { Error: errorBody } },
  };
}
