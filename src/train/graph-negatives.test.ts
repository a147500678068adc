import assert from "node:assert/strict";
import { test } from "node:test";
import { log } from "../../test/fixtures/tiny-graph.ts";
import { PinSageCore } from "../encoders/pinsage.ts";
import { buildBipartiteGraph } from "../graph/bipartite.ts";
import { Rng } from "../math/rng.ts";
import * as negatives from "../negatives/index.ts";
import { bandOf, visitRankBand } from "./graph-negatives.ts";

// users 0..2, items 0..7 (nodes 3..10): user 0 reaches every item through the chain of users
const g = buildBipartiteGraph(log([0, 0, 0, 1, 1, 1, 2, 2, 2, 2], [0, 1, 2, 2, 3, 4, 4, 5, 6, 7]), 3, 8);

function ranking(core: PinSageCore, u: number): number[] {
  const r = (core.importance as NonNullable<PinSageCore["importance"]>).ranking;
  const items: number[] = [];
  for (let e = r.offsets[u]; e < r.offsets[u + 1]; e++) if (r.indices[e] >= 3) items.push(r.indices[e] - 3);
  return items;
}

test("visit-rank band: only items of ranks [from, to), each as often (uniform over the band)", () => {
  const core = new PinSageCore({ dim: 4, topT: 2, walk: { steps: 20_000, keep: 20, restart: 0.3 } });
  core.prepareGraph(g, new Rng(1));
  const items = ranking(core, 0);
  assert.equal(items.length, 8, "the walks from user 0 reach all 8 items");
  // the ranking is by visits: user 0's own items first, the far end of the chain last
  assert.deepEqual(new Set(items.slice(0, 3)), new Set([0, 1, 2]));
  assert.deepEqual(new Set(items.slice(3, 5)), new Set([3, 4]));
  assert.deepEqual(new Set(items.slice(5)), new Set([5, 6, 7]));
  const src = visitRankBand(core, { from: 2, to: 5 });
  const rng = new Rng(9);
  const n = 30_000;
  const counts = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const i = src(0, 0, rng);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  assert.deepEqual(
    new Set(counts.keys()),
    new Set(items.slice(2, 5)),
    "the band's three items, nothing else",
  );
  // each 1/3; 4σ of a binomial share over 30,000 draws ≈ 0.011
  for (const [i, c] of counts) assert.ok(Math.abs(c / n - 1 / 3) < 0.011, `item ${i}: ${c / n}`);
  // a band past the items reached gives no hard negative; a band cut by the reach keeps its start
  assert.equal(visitRankBand(core, { from: 8, to: 20 })(0, 0, rng), -1);
  const cut = new Set<number>();
  for (let k = 0; k < 2000; k++) cut.add(visitRankBand(core, { from: 6, to: 100 })(0, 0, rng));
  assert.deepEqual(cut, new Set(items.slice(6)), "ranks 6.. of the 8 reached");
});

test("visit-rank band: the default band scales with the catalogue", () => {
  assert.deepEqual(bandOf(40_981), { from: 50, to: 200 }); // Gowalla: the cap
  assert.deepEqual(bandOf(1_682), { from: 50, to: 200 }); // ML-100k
  assert.deepEqual(bandOf(100), { from: 3, to: 12 });
  assert.deepEqual(bandOf(100, { to: 40 }), { from: 3, to: 40 });
});

test("visit-rank band mixed with uniform negatives at easy:hard = ratio:1", () => {
  const core = new PinSageCore({ dim: 4, topT: 2, walk: { steps: 20_000, keep: 20, restart: 0.3 } });
  core.prepareGraph(g, new Rng(1));
  const band = new Set(ranking(core, 0).slice(2, 5));
  const ratio = 3;
  const s = negatives.hard({
    easy: negatives.uniform({ count: 10 }),
    source: visitRankBand(core, { from: 2, to: 5 }),
    ratio,
  });
  s.prepare({ nItems: 8, counts: new Float64Array(8).fill(1), batchesPerEpoch: 1 });
  const rows = 2000;
  const out = new Int32Array(rows * 10);
  s.sampleInto(
    new Rng(4),
    { rows, queryIds: new Int32Array(rows), posIds: new Int32Array(rows), step: 0 },
    out,
  );
  let inBand = 0;
  for (const i of out) if (band.has(i)) inBand++;
  // a slot is hard w.p. 1/(ratio+1), else uniform over 8 items (3 of them in the band)
  const p = 1 / (ratio + 1) + (ratio / (ratio + 1)) * (3 / 8);
  const sd = Math.sqrt((p * (1 - p)) / out.length);
  assert.ok(Math.abs(inBand / out.length - p) < 4 * sd, `${inBand / out.length} vs ${p}`);
});
