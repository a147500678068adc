import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../math/rng.ts";
import { round6 } from "./service.ts";

test("round6 gives Number(x.toPrecision(6)) for float32 scores of every magnitude and sign", () => {
  const rng = new Rng(11);
  const f = new Float32Array(1);
  const edge = [0, -0, 1, -1, 0.5, 999999.5, 1e-7, 123456.5, -2.5e-5, 1e6, 3e7, 1e21, 1e-30, 261, 1415];
  const xs = [...edge, Number.POSITIVE_INFINITY, Number.NaN];
  for (let i = 0; i < 50_000; i++) {
    f[0] = (rng.next() - 0.3) * 10 ** (rng.int(16) - 8);
    xs.push(f[0]);
  }
  for (const x of xs) assert.ok(Object.is(round6(x), Number(x.toPrecision(6))), `${x}: ${round6(x)}`);
});
