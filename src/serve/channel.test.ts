import assert from "node:assert/strict";
import { test } from "node:test";
import { tinyDataset } from "../../test/fixtures/tiny-dataset.ts";
import { FmRecall } from "../models/fm.ts";
import { annChannel, type ChannelQuery } from "./channel.ts";

// Even users (g = A) take even items, odd users (g = B) odd items: a user's group is all FM needs.
const nUsers = 24;
const nItems = 12;
const data = tinyDataset({
  train: Array.from({ length: nUsers }, (_, u) => [0, 2, 4, 6, 8, 10].map((i) => i + (u % 2)).slice(u % 3)),
  nItems,
  userAttrs: { g: Array.from({ length: nUsers }, (_, u) => [u % 2 === 0 ? "A" : "B"]) },
});

const query = (attributes: Record<string, string[]>, recent: number[] = []): ChannelQuery => ({
  user: -1,
  recent: Int32Array.from(recent),
  attributes,
  k: 4,
  seen: null,
});

test("ANN channel: a user unseen in training is served from her attributes by a feature model (FM)", async () => {
  const fm = await new FmRecall({ dim: 8, epochs: 30, userFields: ["id", "g"], itemFields: ["id"] }).fit(
    data,
  );
  const ch = annChannel(fm, {
    name: "u2i/fm",
    source: "user",
    quota: 4,
    timeoutMs: 1000,
    when: "always",
    seeds: 5,
    spec: "Flat",
    metric: "ip",
  });
  for (const [g, parity] of [
    ["A", 0],
    ["B", 1],
  ] as const) {
    const hits = ch.run(query({ g: [g] }));
    assert.ok(hits !== null && !(hits instanceof Promise));
    // exactly the model's own cold-start ranking (E_u from attributes, eq. 5-28)
    const want = fm.recommendVectors(fm.userVector({ g }), 1, 4).row(0);
    assert.deepEqual(Array.from(hits.ids), Array.from(want.ids));
    for (const i of Array.from(hits.ids)) assert.equal(i % 2, parity, `group ${g} got item ${i}`);
  }
  // no attribute the model reads and no recent items: the channel has nothing to say
  assert.equal(ch.run(query({ unknown: ["x"] })), null);
  // recent items only: FM's item-history query concat(1, mean Σ v)
  const fromItems = ch.run(query({}, [1, 3]));
  assert.ok(fromItems !== null && !(fromItems instanceof Promise));
  assert.deepEqual(
    Array.from(fromItems.ids),
    Array.from(fm.recommendFromItems(Int32Array.of(1, 3), 4).row(0).ids),
  );
});
