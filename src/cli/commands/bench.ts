/** `recallkit bench <suite> [args]`: runs bench/run.ts from a repository checkout. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RecallkitError } from "../../errors.ts";

export async function run(argv: string[]): Promise<void> {
  const runner = fileURLToPath(new URL("../../../bench/run.ts", import.meta.url));
  if (!existsSync(runner))
    throw new RecallkitError(
      "RK_ERR_INVALID_ARGUMENT",
      "bench suites ship with the repository, not the npm package: run `npm run bench -- <suite>` in a checkout",
    );
  const p = spawnSync(process.execPath, ["--import", "tsx", runner, ...argv], { stdio: "inherit" });
  process.exitCode = p.status ?? 1;
}
