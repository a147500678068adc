// Bans Math.random in src/: every random draw goes through math/rng.ts so runs replay from a seed.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

let bad = 0;
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".ts") && /Math\.random\s*\(/.test(readFileSync(p, "utf8"))) {
      console.error(`${p}: Math.random is banned in src/ (use math/rng.ts)`);
      bad++;
    }
  }
})("src");
process.exit(bad ? 1 : 0);
