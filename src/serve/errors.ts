/**
 * The service's one error-code table (fastify's FST_ERR_*): every error a client can see has a
 * code, an HTTP status and a message that names the field and the fix. Library errors
 * (RecallkitError) that reach the HTTP layer map through `toHttpError`.
 */
import { RecallkitError } from "../errors.ts";

export const ServeErrors = {
  RK_SERVE_BAD_REQUEST: { status: 400, summary: "the request body, query or parameters failed validation" },
  RK_SERVE_INVALID_JSON: { status: 400, summary: "the body is not valid JSON" },
  RK_SERVE_UNKNOWN_ITEM: { status: 400, summary: "an item id in the request is not in the catalogue" },
  RK_SERVE_ITEM_NOT_FOUND: { status: 404, summary: "the item in the path is not in the catalogue" },
  RK_SERVE_NOT_FOUND: { status: 404, summary: "no such route" },
  RK_SERVE_METHOD: { status: 405, summary: "the route does not take this method" },
  RK_SERVE_UNAUTHORIZED: { status: 401, summary: "an admin route needs the admin token" },
  RK_SERVE_BODY_TOO_LARGE: { status: 413, summary: "the body is larger than server.bodyLimitBytes" },
  RK_SERVE_UNSUPPORTED_MEDIA: { status: 415, summary: "send content-type: application/json" },
  RK_SERVE_STORE_UNAVAILABLE: {
    status: 503,
    summary: "the online store (Redis) is down and store.fallback is fail",
  },
  RK_SERVE_RELOAD_FAILED: {
    status: 500,
    summary: "reloading artifacts failed; the previous state keeps serving",
  },
  RK_SERVE_INTERNAL: { status: 500, summary: "an unexpected error" },
} as const;

export type ServeErrorCode = keyof typeof ServeErrors;

export class ServeError extends Error {
  readonly code: ServeErrorCode;
  readonly statusCode: number;
  constructor(code: ServeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ServeError";
    this.code = code;
    this.statusCode = ServeErrors[code].status;
  }
}

export function badRequest(field: string, message: string): ServeError {
  return new ServeError("RK_SERVE_BAD_REQUEST", `${field}: ${message}`);
}

export function storeUnavailable(why: string): ServeError {
  return new ServeError("RK_SERVE_STORE_UNAVAILABLE", `online store unavailable: ${why}`);
}

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly status: number };
}

const FASTIFY: Record<string, ServeErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "RK_SERVE_INVALID_JSON",
  FST_ERR_CTP_EMPTY_JSON_BODY: "RK_SERVE_INVALID_JSON",
  FST_ERR_CTP_BODY_TOO_LARGE: "RK_SERVE_BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "RK_SERVE_UNSUPPORTED_MEDIA",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "RK_SERVE_BAD_REQUEST",
};

/** Any thrown value → a ServeError (never leaks a stack; unknown errors are 500 RK_SERVE_INTERNAL). */
export function toHttpError(err: unknown): ServeError {
  if (err instanceof ServeError) return err;
  const e = err as { code?: string; message?: string; statusCode?: number };
  const mapped = typeof e.code === "string" ? FASTIFY[e.code] : undefined;
  if (mapped !== undefined) {
    const msg =
      mapped === "RK_SERVE_INVALID_JSON"
        ? `body: not valid JSON (${e.message ?? "parse error"})`
        : (e.message ?? mapped);
    return new ServeError(mapped, msg);
  }
  if (err instanceof RecallkitError && err.code === "RK_ERR_INVALID_ARGUMENT")
    return new ServeError("RK_SERVE_BAD_REQUEST", err.message);
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500)
    return new ServeError("RK_SERVE_BAD_REQUEST", e.message ?? "bad request");
  return new ServeError("RK_SERVE_INTERNAL", `internal error: ${e.message ?? String(err)}`, { cause: err });
}
