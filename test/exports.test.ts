/**
 * The public API is exactly what src/index.ts exports: this snapshot catches an accidental
 * addition, removal or typo. After a deliberate change, regenerate with
 * `RECALLKIT_UPDATE_SNAPSHOT=1 node --import tsx --test test/exports.test.ts` and review the diff.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const SNAPSHOT = join(import.meta.dirname, "exports.snapshot.json");

test("public exports match the checked-in list", async () => {
  const names = Object.keys(await import("../src/index.ts")).sort();
  if (process.env.RECALLKIT_UPDATE_SNAPSHOT === "1")
    writeFileSync(SNAPSHOT, `${JSON.stringify(names, null, 2)}\n`);
  assert.deepEqual(names, JSON.parse(readFileSync(SNAPSHOT, "utf8")));
});
