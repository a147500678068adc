import assert from "node:assert/strict";
import { test } from "node:test";
import { attributeField } from "../data/attributes.ts";
import type { Interactions } from "../types.ts";
import { attributeGraphSize, buildAttributeGraph } from "./attribute-nodes.ts";
import { buildBipartiteGraph } from "./bipartite.ts";

const x: Interactions = {
  length: 3,
  users: Int32Array.from([0, 0, 1]),
  items: Int32Array.from([0, 1, 1]),
  weights: null,
  ts: null,
  events: null,
  eventNames: [],
  sessions: null,
};
// items 0..2; genres: 0 → {a}, 1 → {a, b}, 2 → {b} (item 2 has no interaction)
const genre = attributeField(
  "genre",
  3,
  [
    [0, "a"],
    [1, "a"],
    [1, "b"],
    [2, "b"],
  ],
  { multi: true },
);

function neighbours(g: { offsets: Int32Array; indices: Int32Array }, v: number): number[] {
  return [...g.indices.subarray(g.offsets[v], g.offsets[v + 1])].sort((a, b) => a - b);
}

test("attribute graph: users, items, then one node per value; symmetric normalisation", () => {
  // nodes: users 0,1; items 2,3,4; genre a = 5, b = 6
  const g = buildAttributeGraph(x, 2, 3, { fields: [genre] });
  assert.equal(g.nNodes, 7);
  assert.equal(attributeGraphSize(2, 3, [genre]), 7);
  assert.deepEqual(neighbours(g, 0), [2, 3]);
  assert.deepEqual(neighbours(g, 3), [0, 1, 5, 6]);
  assert.deepEqual(neighbours(g, 4), [6]);
  assert.deepEqual(neighbours(g, 5), [2, 3]);
  assert.deepEqual(neighbours(g, 6), [3, 4]);
  for (let v = 0; v < 7; v++)
    for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++)
      assert.ok(Math.abs(g.values[e] - 1 / Math.sqrt(g.degrees[v] * g.degrees[g.indices[e]])) < 1e-7);
  // include: item 2 left out entirely (the training graph of an inductive split)
  const t = buildAttributeGraph(x, 2, 3, { fields: [genre], include: (i) => i !== 2 });
  assert.equal(t.degrees[4], 0);
  assert.deepEqual(neighbours(t, 6), [3]);
  // no fields: the plain bipartite graph
  const p = buildAttributeGraph(x, 2, 3);
  const b = buildBipartiteGraph(x, 2, 3);
  assert.deepEqual(p.offsets, b.offsets);
  assert.deepEqual(p.indices, b.indices);
  assert.deepEqual(p.values, b.values);
});
