import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TopK } from "../math/topk.ts";
import { mergeChannels, mergeTopK } from "./merge.ts";

const A = { name: "A", ids: [1, 2, 3, 4] };
const B = { name: "B", ids: [2, 5, 6] };
const C = { name: "C", ids: [7] }; // runs dry after round 1

test("round robin (Code 5-2): one pop per channel per round, duplicates kept once", () => {
  // round 1: A→1, B→2, C→7; round 2: A→2 (dup, turn spent), B→5; round 3: A→3, B→6; round 4: A→4
  const m = mergeChannels([A, B, C], 10);
  assert.deepEqual(
    m.map((x) => x.item),
    [1, 2, 7, 5, 3, 6, 4],
  );
  assert.deepEqual(m[1].channels, [
    { channel: "A", rank: 2 },
    { channel: "B", rank: 1 },
  ]);
  assert.equal(m[1].insertedBy, "B");
});

test("round robin stops at the size limit; every channel's best gets in", () => {
  assert.deepEqual(
    mergeChannels([A, B, C], 3).map((x) => x.item),
    [1, 2, 7],
  );
  // Priority (Code 5-1) fills from A first and drops C entirely at the same size.
  assert.deepEqual(
    mergeChannels([A, B, C], 3, { strategy: "priority" }).map((x) => x.item),
    [1, 2, 3],
  );
});

test("skipDuplicates lets a channel pop past items already merged", () => {
  // round 2: A pops 2 (dup) then 3
  assert.deepEqual(
    mergeChannels([A, B, C], 10, { skipDuplicates: true }).map((x) => x.item),
    [1, 2, 7, 3, 5, 4, 6],
  );
});

test("all channels dry: returns what there is; empty inputs", () => {
  assert.equal(mergeChannels([C], 5).length, 1);
  assert.deepEqual(mergeChannels([], 5), []);
  assert.deepEqual(mergeChannels([A], 0), []);
});

test("property: merged lists are duplicate-free, ≤ k, and contain every channel's top item when k ≥ #channels", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 15 }), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 0, max: 40 }),
      fc.boolean(),
      (lists, k, skip) => {
        const chans = lists.map((ids, i) => ({ name: `c${i}`, ids }));
        const m = mergeChannels(chans, k, { skipDuplicates: skip });
        const items = m.map((x) => x.item);
        assert.ok(items.length <= k);
        assert.equal(new Set(items).size, items.length);
        if (k >= chans.length)
          for (const c of chans) if (c.ids.length > 0) assert.ok(items.includes(c.ids[0]));
        const all = new Set(lists.flat());
        assert.equal(items.length, Math.min(k, skip ? all.size : items.length));
      },
    ),
    { seed: 11, numRuns: 300 },
  );
});

test("mergeTopK merges row by row", () => {
  const a = new TopK(2, 2);
  a.ids.set([1, 2, 3, -1]);
  a.counts.set([2, 1]);
  const b = new TopK(2, 2);
  b.ids.set([2, 9, 4, 5]);
  b.counts.set([2, 2]);
  const m = mergeTopK(
    [
      { name: "a", lists: a },
      { name: "b", lists: b },
    ],
    3,
  );
  assert.deepEqual(Array.from(m.row(0).ids), [1, 2, 9]);
  assert.deepEqual(Array.from(m.row(1).ids), [3, 4, 5]);
});

test("weights: pops per round, fractions carried as credit, 0 mutes a channel", () => {
  // A pops 2 per round, B 1, C every other round (0.5):
  // r1: A→1,2  B→2 (dup, turn spent)  C (credit 0.5)   r2: A→3,4  B→5  C→7   r3: B→6
  assert.deepEqual(
    mergeChannels([A, B, C], 10, { weights: { A: 2, C: 0.5 } }).map((x) => x.item),
    [1, 2, 3, 4, 5, 7, 6],
  );
  assert.deepEqual(
    mergeChannels([A, B, C], 10, { weights: { A: 0 } }).map((x) => x.item),
    [2, 7, 5, 6],
  );
  assert.throws(() => mergeChannels([A], 3, { weights: { Z: 1 } }), /unknown channel "Z"/);
  assert.throws(() => mergeChannels([A], 3, { weights: { A: -1 } }), /must be a number ≥ 0/);
});
