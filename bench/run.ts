/**
 * `npm run bench -- <suite> [suite args] [--json] [--data-dir DIR]`: runs bench/suites/<suite>.ts
 * and prints one JSON line per result (with --json) or a readable summary.
 */
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { BenchContext, BenchResult, BenchSuite } from "./types.ts";

const suitesDir = new URL("./suites/", import.meta.url);
const available = readdirSync(suitesDir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3))
  .sort();

const argv = process.argv.slice(2);
const json = argv.includes("--json");
let dataDir = process.env.RECALLKIT_DATA;
const rest: string[] = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--json") continue;
  if (argv[i] === "--data-dir") {
    dataDir = argv[++i];
    continue;
  }
  rest.push(argv[i]);
}
const [suite, ...args] = rest;
if (suite === undefined || !available.includes(suite)) {
  console.error(`usage: npm run bench -- <suite> [--json] [--data-dir DIR]\nsuites: ${available.join(", ")}`);
  process.exit(suite === undefined ? 0 : 2);
}
const mod = (await import(pathToFileURL(resolve(suitesDir.pathname, `${suite}.ts`)).href)) as {
  run: BenchSuite;
};
const ctx: BenchContext = {
  dataDir: dataDir === undefined ? undefined : resolve(dataDir),
  args,
  emit(r: BenchResult) {
    if (json) console.log(JSON.stringify(r));
    else {
      const m = Object.entries(r.metrics)
        .map(([k, v]) => `${k}=${Number(v.toFixed(4))}`)
        .join(" ");
      const s = Object.entries(r.seconds)
        .map(([k, v]) => `${k}=${v.toFixed(2)}s`)
        .join(" ");
      console.log(`${r.suite} ${r.dataset} ${r.model}: ${m} | ${s} | peak ${r.peakRssMB} MB`);
      if (r.extra !== undefined) console.log(`  extra: ${JSON.stringify(r.extra)}`);
    }
  },
  log(msg: string) {
    process.stderr.write(`[${suite}] ${msg}\n`);
  },
};
await mod.run(ctx);
