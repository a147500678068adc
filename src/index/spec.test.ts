import assert from "node:assert/strict";
import { test } from "node:test";
import { RecallkitError } from "../errors.ts";
import { createIndex } from "./factory.ts";
import { formatSpec, parseSpec } from "./spec.ts";

test("specs print back unchanged through parseSpec/formatSpec and createIndex", () => {
  for (const s of [
    "Flat",
    "HNSW32",
    "HNSW16,efC=200",
    "HNSW32,ef=128",
    "HNSW32,efC=200,ef=64",
    "HNSW2,efC=1,ef=1",
  ]) {
    assert.equal(formatSpec(parseSpec(s)), s);
    assert.equal(createIndex(s, 8, "cosine").spec, s);
  }
  assert.deepEqual(parseSpec("HNSW32,efC=200,ef=64"), { kind: "hnsw", m: 32, efConstruction: 200, ef: 64 });
});

test("unknown or malformed specs are rejected with the expected grammar", () => {
  for (const s of [
    "",
    "flat",
    "IVF100,Flat",
    "HNSW",
    "HNSW1",
    "HNSW32,",
    "HNSW32,ef=0",
    "HNSW32,ef=64,efC=200",
    "HNSW32,ef=1,ef=2",
    "HNSW32,M=4",
    "HNSW32,ef=abc",
    " HNSW32",
  ]) {
    assert.throws(
      () => parseSpec(s),
      (e: unknown) =>
        e instanceof RecallkitError &&
        e.code === "RK_ERR_INVALID_ARGUMENT" &&
        /expected "Flat" or "HNSW<M>/.test(e.message),
      s,
    );
  }
  assert.throws(() => createIndex("PQ8", 8, "ip"), RecallkitError);
});
