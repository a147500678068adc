/**
 * A recipe no paper has, through the public API: U2I positives with hot items down-sampled
 * (spec eq. 5-21), mixed negatives (in-batch + popularity^0.75 over the catalogue), ID tables,
 * sampled softmax with temperature and −log Q, cosine scores. Run:
 *   node --import tsx examples/custom-recipe.ts
 */
import {
  EmbeddingModel,
  encoders,
  evaluate,
  losses,
  negatives,
  optimizers,
  positives,
  resolveDataset,
  transforms,
  userItemCsr,
} from "../src/index.ts";

const data = await resolveDataset("synthetic:seed=7,users=2000,items=1000");
const recipe = {
  positives: positives.userItem({ subsample: 1e-3 }),
  negatives: negatives.mixed({
    global: negatives.popularity({ power: 0.75, count: 128, shared: true }),
    nGlobal: 128,
  }),
  query: encoders.idTable({ dim: 32 }),
  item: encoders.idTable({ dim: 32 }),
  loss: losses.softmax({
    transforms: [transforms.temperature(0.1), transforms.logQ(), transforms.accidentalHits()],
  }),
  score: "cosine" as const,
};
const model = await new EmbeddingModel(recipe, {
  epochs: 5,
  batchSize: 256,
  seed: 7,
  optimizer: optimizers.adam({ lr: 0.01 }),
}).fit(data);
const train = userItemCsr(data.train, data.users.size, data.items.size);
const test = userItemCsr(data.test ?? data.train, data.users.size, data.items.size);
const report = await evaluate(model, train, test, { ks: [20] });
console.log(
  `custom recipe: Recall@20 ${report.metrics["recall@20"].toFixed(4)}, NDCG@20 ${report.metrics["ndcg@20"].toFixed(4)}`,
);
