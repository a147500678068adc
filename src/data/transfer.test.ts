import assert from "node:assert/strict";
import { test } from "node:test";
import { tinyDataset } from "../../test/fixtures/tiny-dataset.ts";
import { datasetFromMessage, datasetToMessage } from "./transfer.ts";

test("a Dataset survives structuredClone as a message: id maps, interactions, attribute tables", () => {
  const d = tinyDataset({
    train: [[0, 1], [2], [1, 3]],
    nItems: 4,
    userAttrs: { g: [["A"], ["B"], ["A", "B"]] },
  });
  const back = datasetFromMessage(structuredClone(datasetToMessage(d)));
  assert.deepEqual(back.users.ids(), d.users.ids());
  assert.equal(back.items.indexOf(d.items.id(2)), 2);
  assert.deepEqual(Array.from(back.train.items), Array.from(d.train.items));
  assert.deepEqual([...back.userAttributes.keys()], [...d.userAttributes.keys()]);
  const g = back.userAttributes.get("g");
  assert.ok(g !== undefined);
  assert.deepEqual(g.vocab.ids(), d.userAttributes.get("g")?.vocab.ids());
  assert.deepEqual(Array.from(g.csr.indices), Array.from(d.userAttributes.get("g")?.csr.indices ?? []));
});
