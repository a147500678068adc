import assert from "node:assert/strict";
import { test } from "node:test";
import { tinyDataset } from "../../test/fixtures/tiny-dataset.ts";
import { buildCsr } from "../math/csr.ts";
import { FmRecall } from "../models/fm.ts";
import { MfSoftmax } from "../models/mf-softmax.ts";
import { GraphFilter } from "../recall/graph-filter.ts";
import { PopularityPrior } from "../recall/popularity-prior.ts";
import { annChannel, type ChannelQuery, modelChannel } from "./channel.ts";

// Even users (g = A) take even items, odd users (g = B) odd items: a user's group is all FM needs.
const nUsers = 24;
const nItems = 12;
const data = tinyDataset({
  train: Array.from({ length: nUsers }, (_, u) => [0, 2, 4, 6, 8, 10].map((i) => i + (u % 2)).slice(u % 3)),
  nItems,
  userAttrs: { g: Array.from({ length: nUsers }, (_, u) => [u % 2 === 0 ? "A" : "B"]) },
});

/** A U2I channel over an exact (Flat) inner-product index. */
const U2I_FLAT = {
  name: "u2i/fm",
  source: "user" as const,
  quota: 4,
  timeoutMs: 1000,
  when: "always" as const,
  seeds: 5,
  spec: "Flat",
  metric: "ip" as const,
};

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
  const ch = annChannel(fm, U2I_FLAT);
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

test("ANN channel over a popularity-prior model: the same lists as the model, prior in I2I too; metric must be ip", async () => {
  const m = await new PopularityPrior(
    new MfSoftmax({ dim: 8, epochs: 3, batchSize: 16, nGlobal: 8, seed: 2 }),
    0.3,
  ).fit(data);
  const opts = { name: "u2i/mf", quota: 4, timeoutMs: 1000, when: "always" as const, seeds: 2, spec: "Flat" };
  const u2i = annChannel(m, { ...opts, source: "user", metric: "ip" });
  const hits = u2i.run({ ...query({}), user: 5 });
  assert.ok(hits !== null && !(hits instanceof Promise));
  assert.deepEqual(Array.from(hits.ids), Array.from(m.recommend(Int32Array.of(5), 4).row(0).ids));
  // a cold user from recent items: the model's own fold-in (mean · 1)
  const cold = u2i.run(query({}, [1, 3]));
  assert.ok(cold !== null && !(cold instanceof Promise));
  assert.deepEqual(Array.from(cold.ids), Array.from(m.recommendFromItems(Int32Array.of(1, 3), 4).row(0).ids));
  // I2I from one recent item: neighbours scored v_seed·v_i + bias_i
  const i2i = annChannel(m, { ...opts, name: "i2i/mf", source: "recent", metric: "ip", seeds: 1 });
  const near = i2i.run(query({}, [2]));
  assert.ok(near !== null && !(near instanceof Promise));
  const e = m.embeddings();
  const d = e.dim;
  const want = Array.from({ length: nItems }, (_, i) => i)
    .filter((i) => i !== 2)
    .map((i) => {
      let s = e.items[i * d + d - 1];
      for (let j = 0; j < d - 1; j++) s += e.items[2 * d + j] * e.items[i * d + j];
      return [i, s] as const;
    })
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 4)
    .map((x) => x[0]);
  assert.deepEqual(Array.from(near.ids), want);
  assert.throws(
    () => annChannel(m, { ...opts, source: "user", metric: "cosine" }),
    /popularity prior .* use metric "ip"/,
  );
});

test("ANN channel over a popularity-prior FM: a cold user's attributes give the FM query · 1, scored with the prior", async () => {
  const fm = new FmRecall({ dim: 8, epochs: 30, userFields: ["id", "g"], itemFields: ["id"] });
  const m = await new PopularityPrior(fm, 0.5).fit(data);
  const ch = annChannel(m, U2I_FLAT);
  const hits = ch.run(query({ g: ["A"] }));
  assert.ok(hits !== null && !(hits instanceof Promise));
  const q = fm.userVectorFromFeatures({ g: ["A"] }, new Int32Array(0));
  assert.ok(q !== null);
  const e = m.embeddings();
  const d = e.dim;
  const want = Array.from({ length: nItems }, (_, i) => {
    let s = e.items[i * d + d - 1];
    for (let j = 0; j < d - 1; j++) s += q[j] * e.items[i * d + j];
    return [i, s] as const;
  })
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 4)
    .map((x) => x[0]);
  assert.deepEqual(Array.from(hits.ids), want);
});

test("model channel over GF-CF (no embeddings): known users get recommend's list, unknown ones their recent items filtered", async () => {
  const gf = await new GraphFilter({ lowPassDim: 4 }).fit(data);
  const train = buildCsr(nUsers, nItems, data.train.users, data.train.items, null, "one");
  const opts = {
    name: "u2i/gf",
    source: "user" as const,
    quota: 4,
    timeoutMs: 1000,
    when: "always" as const,
    seeds: 5,
  };
  const ch = modelChannel(gf, opts);
  const known = ch.run({ ...query({}), user: 3, seen: train });
  assert.ok(known !== null && !(known instanceof Promise));
  assert.deepEqual(
    Array.from(known.ids),
    Array.from(gf.recommend(Int32Array.of(3), 4, { exclude: train }).row(0).ids),
  );
  const cold = ch.run(query({}, [1, 3, 5]));
  assert.ok(cold !== null && !(cold instanceof Promise));
  assert.deepEqual(
    Array.from(cold.ids),
    Array.from(gf.recommendFromItems(Int32Array.of(1, 3, 5), 4).row(0).ids),
  );
  // odd recent items: the three unseen odd items lead (the two groups share no user)
  assert.deepEqual(
    Array.from(cold.ids)
      .slice(0, 3)
      .sort((a, b) => a - b),
    [7, 9, 11],
  );
  const i2i = modelChannel(gf, { ...opts, name: "i2i/gf", source: "recent" }).run(query({}, [2]));
  assert.ok(i2i !== null && !(i2i instanceof Promise));
  for (const i of Array.from(i2i.ids)) assert.ok(i % 2 === 0 && i !== 2, `item ${i}`);
});
