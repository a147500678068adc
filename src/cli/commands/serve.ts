/** `recallkit serve --config recall.yaml [--host H] [--port N]`: the recall service over HTTP. */
import { stringify } from "yaml";
import { RecallkitError } from "../../errors.ts";
import { defaultConfig, loadConfig } from "../../serve/config.ts";
import { createService } from "../../serve/index.ts";
import { parse } from "../args.ts";

const HELP = `usage: recallkit serve --config recall.yaml [--host 127.0.0.1] [--port 8080] [--print-defaults]

Serves the channels of a config file (after "recallkit train --config" built their artifacts):
  POST /v1/recall               {user, k?, recentItems?, userFeatures?, filters?, channels?}
  GET  /v1/similar-items/:item  ?k=20&model=KEY
  POST /v1/events               {user, items: [...]}: the recent history, updated at once
  GET  /v1/channels, /healthz, /readyz, /metrics, /openapi.json, / (explorer page)
  POST /admin/reload            hot reload (also on SIGHUP)

options:
  --config FILE       the recall.yaml (see examples/recall.yaml)
  --host H, --port N  override server.host / server.port
  --print-defaults    print every config default and exit`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    config: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    "print-defaults": { type: "boolean" },
  });
  if (values.help) return void console.log(HELP);
  if (values["print-defaults"]) return void console.log(stringify(defaultConfig()));
  if (values.config === undefined)
    throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", "no config given: pass --config recall.yaml");
  const config = await loadConfig(values.config);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536))
    throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `--port "${values.port}": expected 0..65535`);
  const t0 = performance.now();
  const svc = await createService(config);
  const address = await svc.listen({
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(port === undefined ? {} : { port }),
  });
  svc.reloadOnSignal("SIGHUP");
  const st = svc.service.state;
  const info = {
    address,
    channels: st.channels.map((c) => c.name),
    users: st.catalogue.users.size,
    items: st.catalogue.items.size,
    store: svc.service.store.health().detail,
    startSeconds: (performance.now() - t0) / 1000,
  };
  if (values.json) console.log(JSON.stringify(info));
  else {
    console.log(
      `recallkit serve: ${address} (${info.channels.length} channels, ${info.users} users, ${info.items} items, store ${info.store}; ready in ${info.startSeconds.toFixed(1)}s)`,
    );
    console.log(
      `  try: curl -s ${address}/v1/recall -H 'content-type: application/json' -d '{"user":"${st.catalogue.users.id(0)}","k":10}'`,
    );
  }
  const stop = () => {
    svc.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
