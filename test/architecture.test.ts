/**
 * The import rule (STYLE §2.1): imports flow one way, from kernels up to the CLI, and the four
 * framework dimensions never import each other.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const SRC = resolve("src");
const LEVEL: Record<string, number> = {
  "errors.ts": 0,
  "workers.ts": 0,
  "types.ts": 0,
  math: 0,
  data: 1,
  graph: 1,
  "recommender.ts": 1,
  io: 1,
  positives: 2,
  negatives: 2,
  encoders: 2,
  losses: 2,
  train: 3,
  models: 4,
  recall: 5,
  index: 5,
  eval: 5,
  "registry.ts": 6,
  "prior-selection.worker.ts": 6,
  serve: 7,
  cli: 8,
  "index.ts": 9,
};
const DIMENSIONS = new Set(["positives", "negatives", "encoders", "losses"]);

function files(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const part = (file: string) => relative(SRC, file).split("/")[0];

test("imports flow one way and the four dimensions stay independent", () => {
  const bad: string[] = [];
  for (const f of files(SRC)) {
    const from = part(f);
    // Type-only imports carry no runtime dependency (types.ts names IdMap, for one).
    const text = readFileSync(f, "utf8").replace(/^import type [^;]+;/gm, "");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
      const target = resolve(dirname(f), m[1]);
      if (!target.startsWith(SRC)) continue;
      const to = part(target);
      if (to === from) continue;
      assert.ok(
        to in LEVEL && from in LEVEL,
        `${relative(SRC, f)}: unknown module group "${to in LEVEL ? from : to}" (add it to LEVEL)`,
      );
      const ok = LEVEL[to] <= LEVEL[from] && !(DIMENSIONS.has(from) && DIMENSIONS.has(to));
      if (!ok) bad.push(`${relative(SRC, f)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(bad, []);
});
