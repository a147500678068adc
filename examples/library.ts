/**
 * The README's library example, runnable: fit ItemCF and ALS on ML-100k, evaluate, merge one
 * user's lists round-robin with provenance.
 *   RECALLKIT_DATA=../shared/data node --import tsx examples/library.ts
 */
import { ALS, evaluate, ItemCF, mergeChannels, resolveDataset, userItemCsr } from "../src/index.ts";

const data = await resolveDataset("ml-100k"); // $RECALLKIT_DATA/ml-100k, default 80/20 split
const train = userItemCsr(data.train, data.users.size, data.items.size);
const test = userItemCsr(data.test ?? data.train, data.users.size, data.items.size);

const itemcf = await new ItemCF({ neighbors: 200 }).fit(data);
const report = await evaluate(itemcf, train, test, { ks: [20, 100] });
console.log("itemcf", report.metrics["recall@20"], report.metrics["ndcg@20"]);

const als = await new ALS({ factors: 64 }).fit(data);
const user = Int32Array.of(data.users.indexOf("42"));
const merged = mergeChannels(
  [
    { name: "i2i/itemcf", ids: (await itemcf.recommend(user, 100, { exclude: train })).row(0).ids },
    { name: "u2i/als", ids: (await als.recommend(user, 100, { exclude: train })).row(0).ids },
  ],
  150,
); // round-robin (spec Code 5-2), each item with the channels and ranks that recalled it
console.log(merged.slice(0, 3).map((m) => ({ item: data.items.id(m.item), channels: m.channels })));
