import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Dataset, Interactions } from "../types.ts";
import { attributeValues } from "./attributes.ts";
import { loadCsvDataset, writeSynthetic } from "./csv-dataset.ts";
import { splitRandom } from "./split.ts";
import { synthesize } from "./synthetic.ts";

const tmp = mkdtempSync(join(tmpdir(), "rk-synth-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("same seed → byte-identical files; another seed differs; default size is fast", async (t) => {
  const t0 = performance.now();
  const a = synthesize();
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `synthesize took ${ms.toFixed(0)} ms`);
  const b = synthesize();
  await writeSynthetic(a, join(tmp, "a"));
  await writeSynthetic(b, join(tmp, "b"));
  for (const f of ["interactions.csv", "items.csv", "users.csv"]) {
    assert.ok(readFileSync(join(tmp, "a", f)).equals(readFileSync(join(tmp, "b", f))), f);
  }
  assert.deepEqual(a.train.items, b.train.items);
  const c = synthesize({ seed: 7 });
  assert.notDeepEqual(c.train.items.subarray(0, 100), a.train.items.subarray(0, 100));
  assert.equal(a.users.size, 2000);
  assert.equal(a.items.size, 1000);
  assert.deepEqual(a.train.eventNames, ["view", "purchase"]);
  assert.ok(a.train.length > 30000, `${a.train.length} rows`);
  t.diagnostic(`synthesize ${ms.toFixed(0)} ms, ${a.train.length} rows`);
});

/** Recall@20 averaged over users with test items; `score(u, out)` fills item scores. */
function recallAt20(
  train: Interactions,
  test: Interactions,
  nUsers: number,
  nItems: number,
  score: (hist: Int32Array, out: Float64Array) => void,
): number {
  const hist: number[][] = Array.from({ length: nUsers }, () => []);
  for (let e = 0; e < train.length; e++) hist[train.users[e]].push(train.items[e]);
  const truth: Set<number>[] = Array.from({ length: nUsers }, () => new Set());
  for (let e = 0; e < test.length; e++) truth[test.users[e]].add(test.items[e]);
  const s = new Float64Array(nItems);
  let sum = 0;
  let n = 0;
  for (let u = 0; u < nUsers; u++) {
    if (truth[u].size === 0) continue;
    const h = Int32Array.from(new Set(hist[u]));
    s.fill(0);
    score(h, s);
    for (const i of h) s[i] = Number.NEGATIVE_INFINITY;
    let hits = 0;
    for (let k = 0; k < 20; k++) {
      let best = 0;
      for (let i = 1; i < nItems; i++) if (s[i] > s[best]) best = i;
      if (truth[u].has(best)) hits++;
      s[best] = Number.NEGATIVE_INFINITY;
    }
    sum += hits / truth[u].size;
    n++;
  }
  return sum / n;
}

test("planted structure: ItemCF beats popularity by a wide margin (Recall@20, random 80/20)", () => {
  const ds = synthesize({ seed: 3 });
  const { train, test: te } = splitRandom(ds.train, { seed: 1 });
  const nU = ds.users.size;
  const nI = ds.items.size;
  // Binary user → distinct items, item popularity, dense co-occurrence (1000² floats = 4 MB).
  const seen = new Set<number>();
  const pop = new Float64Array(nI);
  const co = new Float32Array(nI * nI);
  const byUser: number[][] = Array.from({ length: nU }, () => []);
  for (let e = 0; e < train.length; e++) {
    const key = train.users[e] * nI + train.items[e];
    if (seen.has(key)) continue;
    seen.add(key);
    byUser[train.users[e]].push(train.items[e]);
  }
  for (const h of byUser) {
    for (const i of h) {
      pop[i]++;
      for (const j of h) if (i !== j) co[i * nI + j]++;
    }
  }
  // ItemCF: score(i) = Σ_j∈hist co(i, j) / sqrt(pop(i)·pop(j))  (cosine on binary columns)
  const itemcf = recallAt20(train, te, nU, nI, (h, out) => {
    for (const j of h) {
      const row = j * nI;
      for (let i = 0; i < nI; i++) if (co[row + i] > 0) out[i] += co[row + i] / Math.sqrt(pop[i] * pop[j]);
    }
  });
  const popular = recallAt20(train, te, nU, nI, (_h, out) => out.set(pop));
  assert.ok(itemcf > 0.4, `ItemCF Recall@20 = ${itemcf.toFixed(3)}`);
  assert.ok(itemcf > 1.6 * popular, `ItemCF ${itemcf.toFixed(3)} vs popularity ${popular.toFixed(3)}`);
});

test("attributes carry the cluster signal; sessions, events and stats are consistent", () => {
  const ds = synthesize({ seed: 5, nUsers: 300, nItems: 200, nClusters: 10 });
  const cat = ds.itemAttributes.get("category");
  assert.ok(cat && !cat.multi && cat.vocab.size === 10);
  assert.ok(ds.itemAttributes.get("tags")?.multi);
  for (const name of ["brand", "author", "city"]) assert.ok(ds.itemAttributes.has(name), name);
  for (const name of ["age", "gender", "language"]) assert.ok(ds.userAttributes.has(name), name);
  // Within a session, most views share the category (focus 0.85).
  const l = ds.train;
  const ev = l.events as Int32Array;
  const s = l.sessions as Int32Array;
  const ts = l.ts as Float64Array;
  let same = 0;
  let pairs = 0;
  for (let e = 1; e < l.length; e++) {
    if (s[e] !== s[e - 1] || ev[e] !== 0) continue;
    assert.ok(ts[e] >= ts[e - 1] - 61);
    let p = e - 1;
    while (p >= 0 && ev[p] !== 0) p--;
    if (p < 0 || s[p] !== s[e]) continue;
    pairs++;
    if (cat.csr.indices[l.items[e]] === cat.csr.indices[l.items[p]]) same++;
  }
  assert.ok(same / pairs > 0.6, `same-category share ${same / pairs}`);
  // A purchase follows a view of the same item.
  for (let e = 0; e < l.length; e++) if (ev[e] === 1) assert.equal(l.items[e], l.items[e - 1]);
  const st = ds.itemStats;
  assert.ok(st?.exposures && st.clicks);
  for (let i = 0; i < 200; i++) assert.ok(st.exposures[i] >= st.clicks[i]);
});

function sameDataset(a: Dataset, b: Dataset): void {
  assert.deepEqual(b.users.ids(), a.users.ids());
  assert.deepEqual(b.items.ids(), a.items.ids());
  for (const [x, y] of [
    [a.train, b.train],
    [a.test, b.test],
  ] as const) {
    if (x === null || y === null) {
      assert.equal(x, y);
      continue;
    }
    assert.deepEqual(y.users, x.users);
    assert.deepEqual(y.items, x.items);
    assert.deepEqual(y.ts, x.ts);
    assert.deepEqual(y.sessions, x.sessions);
    assert.deepEqual(y.weights, x.weights);
    const names = (l: Interactions) => [...(l.events ?? [])].map((k) => l.eventNames[k]);
    assert.deepEqual(names(y), names(x));
  }
  for (const [ta, tb] of [
    [a.itemAttributes, b.itemAttributes],
    [a.userAttributes, b.userAttributes],
  ] as const) {
    assert.deepEqual([...tb.keys()], [...ta.keys()]);
    for (const [name, f] of ta) {
      const g = tb.get(name);
      assert.ok(g);
      assert.equal(g.multi, f.multi, name);
      for (let e = 0; e < f.csr.nRows; e++)
        assert.deepEqual(attributeValues(g, e).sort(), attributeValues(f, e).sort());
    }
  }
  assert.deepEqual(b.itemStats?.exposures, a.itemStats?.exposures);
  assert.deepEqual(b.itemStats?.clicks, a.itemStats?.clicks);
}

test("writeSynthetic → loadCsvDataset round trip (with and without a test split)", async () => {
  const ds = synthesize({ seed: 11, nUsers: 200, nItems: 150, nClusters: 5 });
  await writeSynthetic(ds, join(tmp, "rt"));
  sameDataset(ds, await loadCsvDataset(join(tmp, "rt")));
  const split = splitRandom(ds.train, { seed: 2 });
  const withTest = { ...ds, train: split.train, test: split.test };
  await writeSynthetic(withTest, join(tmp, "rt2"));
  sameDataset(withTest, await loadCsvDataset(join(tmp, "rt2")));
});
