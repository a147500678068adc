/**
 * `createService(config)`: the recall service as a library (STYLE §2.3). The config is the
 * `recall.yaml` shape; from code, channels may also name fitted models directly.
 *
 * @example
 * const svc = await createService(await loadConfig("recall.yaml"));
 * const address = await svc.listen();
 * // curl -XPOST $address/v1/recall -H 'content-type: application/json' -d '{"user":"u1","k":10}'
 */
import type { FastifyInstance } from "fastify";
import { type AppOptions, buildApp } from "./app.ts";
import { parseConfig, type RecallConfig, type RecallConfigInput } from "./config.ts";
import { ServiceMetrics } from "./metrics.ts";
import { RecallService, type ReloadResult } from "./service.ts";
import { loadState, type StateSources } from "./state.ts";
import { EmbeddedStore, type OnlineStore, RedisStore } from "./store.ts";

export interface CreateServiceOptions extends StateSources, AppOptions {
  /** Use this store instead of the configured one (tests). */
  readonly store?: OnlineStore;
  /** Collect Node's default process metrics too (default true). */
  readonly defaultMetrics?: boolean;
}

export interface Service {
  readonly app: FastifyInstance;
  readonly service: RecallService;
  readonly config: RecallConfig;
  /** Starts listening (default: config.server host/port); resolves to the address. */
  listen(opts?: { host?: string; port?: number }): Promise<string>;
  /** Hot reload: every artifact read again, the state swapped atomically. */
  reload(): Promise<ReloadResult>;
  /** SIGHUP → reload (errors logged, the old state keeps serving); returns the remover. */
  reloadOnSignal(signal?: NodeJS.Signals): () => void;
  close(): Promise<void>;
}

export async function createService(
  input: RecallConfig | RecallConfigInput,
  opts: CreateServiceOptions = {},
): Promise<Service> {
  const config = parseConfig(input);
  const store =
    opts.store ??
    (config.store.type === "redis" ? await RedisStore.connect(config.store) : new EmbeddedStore());
  let state: Awaited<ReturnType<typeof loadState>>;
  try {
    state = await loadState(config, 1, opts, store);
  } catch (err) {
    if (opts.store === undefined) await store.close();
    throw err;
  }
  const service = new RecallService(
    config,
    state,
    store,
    new ServiceMetrics(opts.defaultMetrics ?? true),
    opts,
  );
  const app = buildApp(service, opts);
  await app.ready();
  // Versions of precomputed lists that earlier processes left in Redis (a reload does this too).
  service.retireOldLists().then(
    (r) => {
      if (r !== undefined && Object.values(r).some((v) => v.length > 0))
        app.log.info(`precomputed lists retired from Redis: ${JSON.stringify(r)}`);
    },
    (err: Error) => app.log.warn(`retiring old precomputed lists: ${err.message}`),
  );
  return {
    app,
    service,
    config,
    listen: (o = {}) =>
      app.listen({ host: o.host ?? config.server.host, port: o.port ?? config.server.port }),
    reload: () => service.reload(),
    reloadOnSignal(signal = "SIGHUP") {
      const handler = () => {
        service.reload().then(
          (r) => app.log.info(`reloaded: state version ${r.version} in ${r.seconds.toFixed(2)}s`),
          (err: Error) => app.log.error(err.message),
        );
      };
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}

export type { RecallRequest, RecallResponse } from "./api.ts";
export { buildCatalogue, type Catalogue, loadCatalogue, saveCatalogue } from "./catalogue.ts";
export { annChannel, type Channel, type ChannelHits, type ChannelQuery, modelChannel } from "./channel.ts";
export {
  ConfigSchema,
  defaultConfig,
  loadConfig,
  parseConfig,
  type RecallConfig,
  type RecallConfigInput,
} from "./config.ts";
export { ServeError, type ServeErrorCode, ServeErrors } from "./errors.ts";
export { evaluateFromConfig, trainFromConfig } from "./pipeline.ts";
export { RecallService, type ReloadResult } from "./service.ts";
export { EmbeddedStore, type OnlineStore, RedisStore } from "./store.ts";
