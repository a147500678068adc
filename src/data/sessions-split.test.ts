import assert from "node:assert/strict";
import { test } from "node:test";
import type { Dataset } from "../types.ts";
import { IdMap } from "./id-map.ts";
import { concatInteractions, interactions } from "./interactions.ts";
import { sessionCount, sessionize } from "./sessions.ts";
import { splitLeaveLastOut, splitRandom, withSplit } from "./split.ts";

// user 0: t = 0, 100, 3000 (gap 2900 > 1800 → new session), 3100; user 1: t = 50, 5000; rows shuffled.
const log = interactions({
  users: Int32Array.from([0, 1, 0, 0, 1, 0]),
  items: Int32Array.from([10, 11, 12, 13, 14, 15]),
  ts: Float64Array.from([3000, 50, 0, 3100, 5000, 100]),
});

test("sessionize cuts per user by the gap and sorts by (user, ts)", () => {
  const s = sessionize(log);
  assert.deepEqual([...s.users], [0, 0, 0, 0, 1, 1]);
  assert.deepEqual([...s.items], [12, 15, 10, 13, 11, 14]);
  // user 0: {0, 100} {3000, 3100}; user 1: {50} {5000} (gap 4950)
  assert.deepEqual([...(s.sessions ?? [])], [0, 0, 1, 1, 2, 3]);
  assert.equal(sessionCount(s), 4);
  // A gap of exactly gapSec stays in the session; larger starts a new one.
  assert.deepEqual([...(sessionize(log, { gapSec: 2900 }).sessions ?? [])], [0, 0, 0, 0, 1, 2]);
  assert.deepEqual([...(sessionize(log, { gapSec: 1e9 }).sessions ?? [])], [0, 0, 0, 0, 1, 1]);
  assert.throws(() => sessionize({ ...log, ts: null }), /no timestamps/);
});

test("leave-last-out puts each user's latest rows in test", () => {
  const { train, test: te } = splitLeaveLastOut(log);
  assert.deepEqual([...te.items].sort(), [13, 14]); // user 0 at 3100, user 1 at 5000
  assert.equal(train.length, 4);
  assert.deepEqual([...train.items], [10, 11, 12, 15]); // original order kept
  const two = splitLeaveLastOut(log, { n: 2 });
  // user 1 has only 2 rows → stays in train
  assert.deepEqual([...two.test.items].sort(), [10, 13]);
});

test("random split: per user, by distinct item, deterministic, ratio respected", () => {
  // 3 users × 10 distinct items, item 0 repeated 3 times for each user.
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < 3; u++) {
    for (let i = 0; i < 10; i++) {
      users.push(u);
      items.push(u * 100 + i);
    }
    users.push(u, u);
    items.push(u * 100, u * 100);
  }
  users.push(3);
  items.push(999); // a user with one item stays in train
  const l = interactions({ users: Int32Array.from(users), items: Int32Array.from(items) });
  const a = splitRandom(l, { seed: 7 });
  const b = splitRandom(l, { seed: 7 });
  assert.deepEqual(a.test.items, b.test.items);
  assert.notDeepEqual([...splitRandom(l, { seed: 8 }).test.items], [...a.test.items]);
  for (let u = 0; u < 3; u++) {
    const testItems = new Set([...a.test.items].filter((_, k) => a.test.users[k] === u));
    const trainItems = new Set([...a.train.items].filter((_, k) => a.train.users[k] === u));
    assert.equal(testItems.size, 2); // round(0.2 × 10)
    for (const i of testItems) assert.ok(!trainItems.has(i), "an item is on one side only");
  }
  assert.equal(a.train.length + a.test.length, l.length);
  assert.ok([...a.train.users].includes(3));
  assert.ok(![...a.test.users].includes(3));
  // 2 distinct items → one goes to test (at least one test item when possible)
  const small = interactions({ users: Int32Array.from([0, 0]), items: Int32Array.from([1, 2]) });
  assert.equal(splitRandom(small).test.length, 1);
});

test("withSplit replaces train/test only", () => {
  const ds: Dataset = {
    name: "x",
    users: IdMap.from(["a", "b", "c", "d"]),
    items: new IdMap(),
    train: log,
    test: null,
    itemAttributes: new Map(),
    userAttributes: new Map(),
    itemStats: null,
  };
  const s = splitLeaveLastOut(log);
  const d2 = withSplit(ds, s);
  assert.equal(d2.train, s.train);
  assert.equal(d2.test, s.test);
  assert.equal(d2.users, ds.users);
});

test("concatInteractions re-interns event names and keeps columns", () => {
  const a = interactions({
    users: Int32Array.from([0]),
    items: Int32Array.from([1]),
    events: Int32Array.from([0]),
    eventNames: ["buy"],
  });
  const b = interactions({
    users: Int32Array.from([1, 2]),
    items: Int32Array.from([3, 4]),
    events: Int32Array.from([1, 0]),
    eventNames: ["view", "buy"],
  });
  const c = concatInteractions([a, b]);
  assert.deepEqual([...c.users], [0, 1, 2]);
  assert.deepEqual(
    [...(c.events ?? [])].map((k) => c.eventNames[k]),
    ["buy", "buy", "view"],
  );
  assert.equal(c.ts, null);
});
