/** End-to-end CLI tests: the real `recallkit` entry point in a child process. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const MAIN = join(import.meta.dirname, "..", "src", "cli", "main.ts");

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const p = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, RECALLKIT_DATA: "" },
  });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr };
}

/** A folder in the generic CSV layout with one given interactions.csv. */
function csvDataset(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "rk-cli-"));
  writeFileSync(join(dir, "interactions.csv"), content);
  return dir;
}

/** The last non-empty stderr line, which must carry the whole error. */
const lastLine = (s: string) => s.trim().split("\n").pop() ?? "";

test("eval popular end to end on the synthetic dataset, as JSON", () => {
  const r = cli("eval", "--dataset", "synthetic:seed=3,users=300,items=200", "--model", "popular", "--json");
  assert.equal(r.code, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim().split("\n")[0]);
  assert.equal(line.model, "popular");
  assert.ok(line.metrics["recall@20"] > 0 && line.metrics["recall@20"] < 1);
  assert.ok(line.users > 0);
});

test("train, then recommend from the saved artifact", () => {
  const out = join(mkdtempSync(join(tmpdir(), "rk-cli-")), "pop");
  const t = cli(
    "train",
    "--dataset",
    "synthetic:seed=3,users=300,items=200",
    "--model",
    "popular",
    "--out",
    out,
  );
  assert.equal(t.code, 0, t.stderr);
  const r = cli("recommend", "--artifact", out, "--items", "i0,i1", "--k", "5", "--json");
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.items.length, 5);
  assert.ok(!res.items.some((x: { item: string }) => x.item === "i0" || x.item === "i1"));
});

test("bad input gives a one-line error that says what and where", () => {
  const unknown = cli("eval", "--dataset", "no-such-dataset", "--model", "popular");
  assert.equal(unknown.code, 1);
  assert.match(lastLine(unknown.stderr), /unknown dataset "no-such-dataset".*RK_ERR_DATASET_UNKNOWN/);

  const missing = cli("data", "inspect", csvDataset("user_id,product\nu1,i1\n"));
  assert.equal(missing.code, 1);
  assert.match(
    lastLine(missing.stderr),
    /interactions\.csv: column "item_id" \(item\) not found; header has: user_id, product/,
  );

  const weight = cli("data", "inspect", csvDataset("user_id,item_id,weight\nu1,i1,1\nu2,i2,abc\n"));
  assert.equal(weight.code, 1);
  assert.match(lastLine(weight.stderr), /interactions\.csv:3: field "weight": "abc" is not a number/);

  const empty = cli("data", "inspect", csvDataset(""));
  assert.equal(empty.code, 1);
  assert.match(lastLine(empty.stderr), /interactions\.csv.*(empty|no rows)/i);

  const model = cli("eval", "--dataset", "synthetic", "--model", "nope");
  assert.match(lastLine(model.stderr), /unknown model "nope"; known models: popular/);

  const param = cli("eval", "--dataset", "synthetic", "--model", "popular", "--param", "bogus=1");
  assert.match(lastLine(param.stderr), /model "popular" has no option "bogus"/);
});

test("--skip-bad-rows counts malformed rows instead of failing", () => {
  const r = cli(
    "data",
    "inspect",
    csvDataset("user_id,item_id,weight\nu1,i1,1\nu2,i2,abc\nu3,i1,2\n"),
    "--skip-bad-rows",
    "--json",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /interactions\.csv: skipped 1 of 3 rows/);
  assert.match(r.stderr, /interactions\.csv:3: field "weight": "abc" is not a number/);
});
