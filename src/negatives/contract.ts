/**
 * The sampler conformance suite: `runNegativeSamplerContract(() => negatives.popularity({ power: 0.75 }))`.
 * On a skewed fixture catalogue it checks ids in range, the output layout (per row or shared),
 * same seed → same draws, empirical frequencies at n = 10⁵ against `prob` (total variation and a
 * per-item 5σ bound), and `logQInto` = log prob. Only tests import this file.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../math/rng.ts";
import type { CatalogueSampler, SampleRequest, SamplerStats } from "./types.ts";

/** A Zipf-like popularity fixture: count(i) = ⌊1000 / (i + 1)⌋ + 1 over n items. */
export function zipfStats(nItems = 50, batchesPerEpoch = 100): SamplerStats {
  const counts = new Float64Array(nItems);
  for (let i = 0; i < nItems; i++) counts[(i * 7) % nItems] = Math.floor(1000 / (i + 1)) + 1;
  return { nItems, counts, batchesPerEpoch };
}

export function request(rows: number, step = 0): SampleRequest {
  return { rows, queryIds: new Int32Array(rows), posIds: new Int32Array(rows), step };
}

export function runNegativeSamplerContract(
  make: () => CatalogueSampler,
  stats: SamplerStats = zipfStats(),
): void {
  const name = make().name;
  const n = 100_000;
  test(`${name}: ids in range, layout per row or shared, same seed gives the same draws`, () => {
    const s = make();
    s.prepare(stats);
    const rows = 7;
    const len = s.shared ? s.count : rows * s.count;
    const a = new Int32Array(len + 3).fill(-5);
    const b = new Int32Array(len + 3).fill(-5);
    s.sampleInto(new Rng(1), request(rows), a);
    s.sampleInto(new Rng(1), request(rows), b);
    assert.deepEqual(a, b);
    for (let e = 0; e < len; e++) assert.ok(a[e] >= 0 && a[e] < stats.nItems, `draw ${e} = ${a[e]}`);
    assert.equal(a[len], -5, "wrote past its layout");
  });
  test(`${name}: empirical frequencies match prob at n = 1e5 (seed 42)`, () => {
    const s = make();
    s.prepare(stats);
    let total = 0;
    for (let i = 0; i < stats.nItems; i++) total += s.prob[i];
    assert.ok(Math.abs(total - 1) < 1e-9, `prob sums to ${total}`);
    const out = new Int32Array(n);
    s.drawInto(new Rng(42), out, 0, n);
    const freq = new Float64Array(stats.nItems);
    for (let e = 0; e < n; e++) freq[out[e]]++;
    let tv = 0;
    for (let i = 0; i < stats.nItems; i++) {
      const p = s.prob[i];
      const f = freq[i] / n;
      tv += Math.abs(f - p) / 2;
      const sd = Math.sqrt((p * (1 - p)) / n);
      assert.ok(Math.abs(f - p) <= 5 * sd + 1e-12, `item ${i}: frequency ${f} vs prob ${p} (±${5 * sd})`);
    }
    assert.ok(tv < 0.02, `total variation ${tv}`);
  });
  test(`${name}: logQInto is log prob`, () => {
    const s = make();
    s.prepare(stats);
    const ids = Int32Array.from({ length: stats.nItems }, (_, i) => i);
    const lq = new Float32Array(stats.nItems + 1);
    s.logQInto(ids, stats.nItems, lq, 1);
    for (let i = 0; i < stats.nItems; i++) {
      if (s.prob[i] > 0) assert.ok(Math.abs(lq[i + 1] - Math.log(s.prob[i])) < 1e-5, `item ${i}`);
    }
  });
}
