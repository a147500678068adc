/**
 * The fastify app over a RecallService: JSON errors from one code table, request metrics, and
 * the routes. Build it with `createService`; tests drive it with `app.inject()`.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { type ErrorBody, ServeError, toHttpError } from "./errors.ts";
import { opsRoutes } from "./routes/ops.ts";
import { v1Routes } from "./routes/v1.ts";
import type { RecallService } from "./service.ts";

export interface AppOptions {
  /** pino logger: true (config level), false (off), or a level. */
  readonly logger?: boolean | string;
}

export function buildApp(svc: RecallService, opts: AppOptions = {}): FastifyInstance {
  const level = typeof opts.logger === "string" ? opts.logger : svc.config.server.logLevel;
  const app = Fastify({
    logger: opts.logger === false || level === "silent" ? false : { level },
    bodyLimit: svc.config.server.bodyLimitBytes,
    // Keep-alive connections from load generators must not be cut mid-run.
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
  });

  // JSON only: anything else is a 415 rather than a string body that fails validation.
  app.removeContentTypeParser("text/plain");

  app.setErrorHandler((err, req, reply) => {
    const e = toHttpError(err);
    if (e.statusCode >= 500 && e.code !== "RK_SERVE_STORE_UNAVAILABLE") req.log.error({ err }, e.message);
    const body: ErrorBody = { error: { code: e.code, message: e.message, status: e.statusCode } };
    reply.code(e.statusCode).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ServeError("RK_SERVE_NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`);
    reply.code(404).send({ error: { code: e.code, message: e.message, status: 404 } } satisfies ErrorBody);
  });
  app.addHook("onResponse", async (req, reply) => {
    svc.metrics.http.observe(
      { method: req.method, route: req.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  v1Routes(app, svc);
  opsRoutes(app, svc);
  return app;
}
