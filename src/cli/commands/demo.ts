/**
 * `recallkit demo`: the whole offline loop on the built-in synthetic dataset — generate, train every
 * channel, evaluate each and their round-robin merge, save artifacts, and answer one request.
 */
import { join } from "node:path";
import { resolveDataset } from "../../data/index.ts";
import { userItemCsr } from "../../data/matrix.ts";
import { evaluateChannels } from "../../eval/channels.ts";
import { mergeChannels } from "../../recall/merge.ts";
import { createModel, modelNames } from "../../registry.ts";
import { loadConfig } from "../../serve/config.ts";
import { createService } from "../../serve/index.ts";
import { evaluateFromConfig, trainFromConfig } from "../../serve/pipeline.ts";
import { parse } from "../args.ts";
import { Progress } from "../progress.ts";
import { printReport } from "./eval.ts";

/** Channels in demo order; any not registered yet is skipped. */
const DEMO_CHANNELS = ["popular", "inverted-index", "itemcf", "usercf", "als", "mf-bpr", "mf-softmax"];

const HELP = `usage: recallkit demo [--seed 42] [--users 5000] [--items 2000] [--out artifacts/demo] [--json]
       recallkit demo --config examples/recall.yaml [--json]

Generates the deterministic synthetic dataset, trains every channel (${DEMO_CHANNELS.join(", ")}),
evaluates each and their round-robin merge with full ranking, saves the artifacts and prints one
merged recommendation with provenance. With --config: train, eval and serve that config, and send
one real HTTP request to the running service.`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    seed: { type: "string", default: "42" },
    users: { type: "string", default: "5000" },
    items: { type: "string", default: "2000" },
    out: { type: "string", default: "artifacts/demo" },
    config: { type: "string" },
  });
  if (values.help) return void console.log(HELP);
  const json = values.json === true;
  if (values.config !== undefined) return demoConfig(values.config, json);
  const t0 = performance.now();
  const ds = await resolveDataset(
    `synthetic:seed=${values.seed},users=${values.users},items=${values.items}`,
  );
  process.stderr.write(
    `synthetic dataset: ${ds.users.size} users, ${ds.items.size} items, ${ds.train.length} train / ${ds.test?.length ?? 0} test interactions\n`,
  );
  const names = DEMO_CHANNELS.filter((n) => modelNames().includes(n));
  const channels = names.map((name) => ({ name, model: createModel(name) }));
  const bars = new Map<string, Progress>();
  const result = await evaluateChannels(ds, channels, {
    ks: [20, 100],
    mergeK: 200,
    strategies: ["roundRobin", "priority"],
    onLog: (m) => process.stderr.write(`${m}\n`),
    onProgress: (label, done, total) => {
      const p = bars.get(label) ?? new Progress(`eval ${label}`, total, "users", json);
      bars.set(label, p);
      p.update(done);
    },
  });
  for (const r of [...result.channels, ...result.merged]) printReport(ds.name, r, json);
  if (!json) {
    console.log("\nRecall@20 by channel:");
    for (const r of [...result.channels, ...result.merged])
      console.log(`  ${r.name.padEnd(18)} ${r.metrics["recall@20"].toFixed(4)}`);
  }

  for (const { name, model } of channels) await model.save(join(values.out, name));
  process.stderr.write(`artifacts saved under ${values.out}/\n`);

  // One request: user 0's lists from every channel, merged round-robin with provenance.
  const user = 0;
  const train = userItemCsr(ds.train, ds.users.size, ds.items.size);
  const lists = [];
  for (const { name, model } of channels)
    lists.push({
      name,
      ids: (await model.recommend(Int32Array.of(user), 10, { exclude: train })).row(0).ids,
    });
  const merged = mergeChannels(lists, 10);
  const sample = merged.map((m) => ({
    item: ds.items.id(m.item),
    channels: m.channels.map((c) => `${c.channel}#${c.rank}`),
  }));
  if (json) console.log(JSON.stringify({ request: { user: ds.users.id(user), k: 10 }, items: sample }));
  else {
    console.log(`\nSample request: user ${ds.users.id(user)}, k = 10, merged round-robin:`);
    for (const [j, s] of sample.entries()) {
      console.log(`  ${String(j + 1).padStart(2)}. ${s.item.padEnd(8)} from ${s.channels.join(", ")}`);
    }
    console.log(`\ndemo finished in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  }
}

/** train → eval → serve one config, then one real request over HTTP. */
async function demoConfig(file: string, json: boolean): Promise<void> {
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const config = await loadConfig(file);
  await trainFromConfig(config, { log });
  const ev = await evaluateFromConfig(config, { log });
  for (const r of [...ev.channels, ...ev.merged]) printReport(ev.dataset, r, json);
  const svc = await createService({ ...config, server: { ...config.server, logLevel: "warn" } });
  try {
    const address = await svc.listen({ port: 0 });
    const st = svc.service.state;
    const body = { user: st.catalogue.users.id(0), k: 10 };
    const res = await fetch(`${address}/v1/recall`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const out = (await res.json()) as {
      items: { item: string; channels: { channel: string; rank: number }[] }[];
    };
    if (json) console.log(JSON.stringify({ request: body, response: out }));
    else {
      console.log(`\nPOST ${address}/v1/recall ${JSON.stringify(body)} → ${res.status}`);
      for (const [j, it] of out.items.entries())
        console.log(
          `  ${String(j + 1).padStart(2)}. ${it.item.padEnd(8)} from ${it.channels.map((c) => `${c.channel}#${c.rank}`).join(", ")}`,
        );
    }
  } finally {
    await svc.close();
  }
}
