import assert from "node:assert/strict";
import { test } from "node:test";
import { buildCsr } from "../math/csr.ts";
import { tinyDataset } from "../positives/contract.ts";
import { encoderContext, runEncoderContract } from "./contract.ts";
import * as encoders from "./index.ts";

// test-only import of positives' fixture: test files sit outside the import rule
const data = tinyDataset([0, 1, 2, 3], [0, 1, 2, 3]);
const feats = buildCsr(
  4,
  6,
  Int32Array.of(0, 0, 1, 2, 2, 2, 3),
  Int32Array.of(1, 4, 2, 0, 3, 5, 1),
  Float32Array.of(1, 0.5, 2, 1, 1, 1, 3),
);

runEncoderContract(
  "idTable",
  () => encoders.idTable({ dim: 3 }),
  () => encoderContext(4, data),
);
runEncoderContract(
  "featureSum(sum)",
  () => encoders.featureSum({ dim: 3, features: feats }),
  () => encoderContext(4, data),
);
runEncoderContract(
  "featureSum(mean, +id)",
  () => encoders.featureSum({ dim: 2, features: feats, mode: "mean", includeId: true }),
  () => encoderContext(4, data),
);
runEncoderContract(
  "featureSum(bags from the positive source)",
  () => encoders.featureSum({ dim: 2, mode: "mean" }),
  () => encoderContext(4, data, { bags: feats }),
);

test("idTable: shared memory allocates a SharedArrayBuffer; init scale is respected", () => {
  const e = encoders.idTable({ dim: 8, init: "uniform", scale: 0.01 });
  e.prepare(encoderContext(100, data, { sharedMemory: true }));
  assert.ok(e.table.buffer instanceof SharedArrayBuffer);
  for (const x of e.table) assert.ok(Math.abs(x) <= 0.01);
});

test("featureSum(mean): a row is the average of its feature vectors", () => {
  const e = encoders.featureSum({ dim: 2, features: feats, mode: "mean" });
  e.prepare(encoderContext(4, data));
  const [E] = e.parameters();
  const out = new Float32Array(2);
  e.forwardInto(Int32Array.of(0), 1, out); // features 1 (w 1) and 4 (w 0.5), mean over 2
  for (let j = 0; j < 2; j++) assert.ok(Math.abs(out[j] - (E[2 + j] + 0.5 * E[8 + j]) / 2) < 1e-6);
});
