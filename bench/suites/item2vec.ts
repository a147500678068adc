/**
 * `npm run bench -- item2vec [--epochs 5] [--workers 2] [--rounds 1] [--kernel wasm|js]
 * [--style gensim|word2vec] [--no-peer] [--data DIR]`
 *
 * Item2Vec throughput on the Gowalla LightGCN train sequences (each user's train items in file
 * order is one sentence; dim 64, window 5, 5 negatives, sample 1e-3, min count 1, 5 epochs),
 * beside gensim's Word2Vec (../shared/peers/w2v_gensim.py, same settings, same threads) run in
 * the same command, alternating sides per round. Words/s = effective (after subsampling) words
 * per second of training, gensim's definition. Also reports the U2I check the peer prints
 * (sum of cosines of the last 20 train items; Gowalla lists are not in time order).
 */
import { join } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { evaluateEmbeddings } from "../../src/eval/evaluate.ts";
import { Item2Vec } from "../../src/models/item2vec.ts";
import { sequencesOf } from "../../src/positives/sequences.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB, runPeer } from "../util.ts";

export async function run(ctx: BenchContext): Promise<void> {
  const dir = arg(ctx.args, "data", join(ctx.dataDir ?? "../shared/data", "gowalla"));
  const epochs = Number(arg(ctx.args, "epochs", "5"));
  const workers = Number(arg(ctx.args, "workers", "2"));
  const rounds = Number(arg(ctx.args, "rounds", "1"));
  const kernel = arg(ctx.args, "kernel", "wasm") === "js" ? "js" : "wasm";
  // gensim 4's init and saturated-pair rule by default: like for like with the peer
  const style = arg(ctx.args, "style", "gensim") === "word2vec" ? "word2vec" : "gensim";
  const peer = !ctx.args.includes("--no-peer");
  const data = await loadLightGcn(dir);
  const train = userItemCsr(data.train, data.users.size, data.items.size);
  const test = userItemCsr(data.test as NonNullable<typeof data.test>, data.users.size, data.items.size);
  const seqs = sequencesOf(data.train); // users' items in file order, the sentences both sides train on
  for (let round = 0; round < rounds; round++) {
    const m = new Item2Vec({
      dim: 64,
      window: 5,
      negatives: 5,
      sample: 1e-3,
      epochs,
      workers,
      seed: 42 + round,
      kernel,
      style,
    });
    const t0 = performance.now();
    await m.fit(data);
    const fitSec = (performance.now() - t0) / 1000;
    const tp = m.throughput as NonNullable<typeof m.throughput>;
    // peer protocol: user query = sum of the normalised vectors of the last 20 train items in file
    // order (the sentence order; the CSR's rows are sorted by item id, which is another set)
    const v = m.embeddings();
    const q = new Float32Array(v.users.length);
    for (let u = 0; u < data.users.size; u++) {
      const b = seqs.offsets[u + 1];
      const a = Math.max(seqs.offsets[u], b - 20);
      for (let e = a; e < b; e++)
        for (let j = 0; j < v.dim; j++) q[u * v.dim + j] += v.items[seqs.items[e] * v.dim + j];
    }
    const r = await evaluateEmbeddings({ dim: v.dim, users: q, items: v.items }, train, test, { ks: [20] });
    ctx.emit({
      suite: "item2vec",
      dataset: "gowalla",
      model: "item2vec",
      params: m.params(),
      metrics: { "recall@20": r.metrics["recall@20"], "ndcg@20": r.metrics["ndcg@20"] },
      seconds: { train: tp.seconds, fit: fitSec },
      peakRssMB: peakRssMB(),
      extra: {
        round,
        workers,
        kernel: tp.kernel,
        effectiveWordsPerSec: Math.round(tp.wordsPerSec),
        rawWordsPerSec: Math.round(tp.rawWords / tp.seconds),
        effectiveWords: tp.effectiveWords,
        rawWords: tp.rawWords,
      },
    });
    if (!peer) continue;
    const p = runPeer("w2v_gensim.py", [
      "--data-dir",
      dir,
      "--workers",
      String(workers),
      "--epochs",
      String(epochs),
      "--seed",
      String(42 + round),
      "--save-dir",
      "",
    ]);
    if (p.result === null) {
      ctx.log(`gensim peer skipped: ${p.reason}`);
      continue;
    }
    const th = p.result.throughput as Record<string, number>;
    const ms = (p.result.metrics ?? {}) as Record<string, number>;
    const ts = p.result.timings_s as Record<string, number>;
    ctx.emit({
      suite: "item2vec",
      dataset: "gowalla",
      model: "gensim-word2vec",
      params: p.result.params as Record<string, unknown>,
      metrics: { "recall@20": ms["recall@20"] ?? Number.NaN, "ndcg@20": ms["ndcg@20"] ?? Number.NaN },
      seconds: { train: ts.train, fit: ts.vocab_plus_train },
      peakRssMB: 0,
      extra: {
        round,
        workers,
        effectiveWordsPerSec: Math.round(th.effective_words_per_s_wall),
        rawWordsPerSec: Math.round(th.raw_words_per_s_wall),
        effectiveWords: th.effective_words_trained,
        ratioRecallkitOverGensim: tp.wordsPerSec / th.effective_words_per_s_wall,
      },
    });
  }
}
