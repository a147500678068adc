/**
 * The positive-source conformance suite: ids inside the declared spaces, an epoch of about
 * `epochSize` pairs that ends with 0, `max` respected, and same seed → same stream.
 * Only tests import this file.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { IdMap } from "../data/id-map.ts";
import { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";
import type { PositiveSource } from "./types.ts";

/** A small dataset from columns; ids are their own names. */
export function tinyDataset(
  users: number[],
  items: number[],
  opts: { sessions?: number[]; ts?: number[] } = {},
): Dataset {
  const nU = Math.max(...users) + 1;
  const nI = Math.max(...items) + 1;
  return {
    name: "tiny",
    users: IdMap.from(Array.from({ length: nU }, (_, i) => String(i))),
    items: IdMap.from(Array.from({ length: nI }, (_, i) => String(i))),
    train: {
      length: users.length,
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      weights: null,
      ts: opts.ts ? Float64Array.from(opts.ts) : null,
      events: null,
      eventNames: [],
      sessions: opts.sessions ? Int32Array.from(opts.sessions) : null,
    },
    test: null,
    itemAttributes: new Map(),
    userAttributes: new Map(),
    itemStats: null,
  };
}

/** A Zipf-ish random log: nUsers users with 3–12 items each over nItems items. */
export function randomDataset(seed: number, nUsers = 60, nItems = 40): Dataset {
  const rng = new Rng(seed);
  const u: number[] = [];
  const it: number[] = [];
  const ts: number[] = [];
  for (let user = 0; user < nUsers; user++) {
    const len = 3 + rng.int(10);
    for (let j = 0; j < len; j++) {
      u.push(user);
      it.push(Math.min(nItems - 1, Math.floor(nItems * rng.next() ** 2)));
      ts.push(rng.next() * 1000);
    }
  }
  it[0] = nItems - 1;
  u[u.length - 1] = nUsers - 1;
  return tinyDataset(u, it, { ts });
}

/** Drains one epoch in batches of `batch`; returns all pairs. */
export function drainEpoch(src: PositiveSource, rng: Rng, batch: number): { q: number[]; t: number[] } {
  const q = new Int32Array(batch);
  const t = new Int32Array(batch);
  const outQ: number[] = [];
  const outT: number[] = [];
  src.startEpoch(rng);
  for (;;) {
    const n = src.nextInto(rng, { q, t }, batch);
    assert.ok(n >= 0 && n <= batch, `nextInto returned ${n} for max ${batch}`);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      outQ.push(q[i]);
      outT.push(t[i]);
    }
  }
  return { q: outQ, t: outT };
}

export function runPositiveSourceContract(
  make: () => PositiveSource,
  data: Dataset = randomDataset(3),
  epochTolerance = 0.25,
): void {
  const name = make().name;
  test(`${name}: ids in range, epoch ≈ epochSize, same seed → same stream`, () => {
    const a = make();
    const info = a.prepare(data);
    const e1 = drainEpoch(a, new Rng(7), 13);
    assert.ok(e1.q.length > 0, "an epoch produced no pairs");
    for (let i = 0; i < e1.q.length; i++) {
      assert.ok(e1.q[i] >= 0 && e1.q[i] < info.nQueries, `q ${e1.q[i]} outside [0, ${info.nQueries})`);
      assert.ok(e1.t[i] >= 0 && e1.t[i] < info.nTargets, `t ${e1.t[i]} outside [0, ${info.nTargets})`);
    }
    assert.ok(
      Math.abs(e1.q.length - a.epochSize) <= epochTolerance * a.epochSize + 2,
      `epoch of ${e1.q.length} pairs, epochSize ${a.epochSize}`,
    );
    assert.equal(info.targetCounts.length, info.nTargets);
    const b = make();
    b.prepare(data);
    assert.deepEqual(
      drainEpoch(b, new Rng(7), 5),
      e1,
      "same seed, different batch size: same pairs in the same order",
    );
  });
}
