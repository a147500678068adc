/** Operations: /healthz, /readyz, /metrics, /openapi.json, POST /admin/reload, and the web page at /. */
import type { FastifyInstance } from "fastify";
import { ServeError } from "../errors.ts";
import { openApiDocument } from "../openapi.ts";
import { PAGE_HTML } from "../page.ts";
import type { RecallService } from "../service.ts";

export function opsRoutes(app: FastifyInstance, svc: RecallService): void {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_req, reply) => {
    const r = svc.ready();
    reply.code(r.ready ? 200 : 503);
    return { status: r.ready ? "ready" : "unavailable", ...r };
  });

  app.get("/metrics", async (_req, reply) => {
    svc.ready(); // refreshes the store gauge
    reply.header("content-type", svc.metrics.registry.contentType);
    return svc.metrics.registry.metrics();
  });

  const doc = openApiDocument(svc.config);
  app.get("/openapi.json", async () => doc);

  app.get("/", async (_req, reply) => {
    reply.header("content-type", "text/html; charset=utf-8");
    return PAGE_HTML;
  });

  if (svc.config.admin.reload)
    app.post("/admin/reload", async (req) => {
      const token = svc.config.admin.token;
      if (token !== undefined && req.headers.authorization !== `Bearer ${token}`)
        throw new ServeError(
          "RK_SERVE_UNAUTHORIZED",
          "admin routes need the header authorization: Bearer <admin.token>",
        );
      return svc.reload();
    });
}
