/**
 * ann: HNSW (hnswlib-node) and exact search on 40,981 × 64 item vectors, side by side with the
 * FAISS and hnswlib peers from ../shared/peers run in the same process tree on the same vectors,
 * queries and ground truth.
 *
 * Vectors: ALS item factors trained on Gowalla (src/recall/als.ts, 64 factors, 15 iterations,
 * seed 42; cached under $TMPDIR/recallkit-bench) when `<dataDir>/gowalla` (or
 * ../shared/data/gowalla) exists; queries = ALS user vectors. Otherwise structured synthetic
 * vectors (low-rank + noise + log-normal norms, `structuredVectors`), noted in the output.
 * The peers read the vectors through their `--vectors w2v` files (w2v_item_vectors.npy,
 * w2v_user_queries.npy in $PEERS_OUT): the file names are theirs, the vectors are ALS's. Their
 * cached queries and exact top-k are then read back, so all sides score identical inputs.
 *
 * Args: --queries 2000  --M 16 (comma list)  --efC 200  --ef 16,32,64,128,256,512
 *       --k 20  --peers on|off  --vectors auto|synthetic  --head 0.01,0 (mipsHead values)
 * Timings: build single-thread (peers: --build-threads 1), queries single-thread.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadLightGcn } from "../../src/data/lightgcn.ts";
import { userItemCsr } from "../../src/data/matrix.ts";
import { BruteForceIndex } from "../../src/index/brute-force.ts";
import { recallAtK, structuredVectors } from "../../src/index/contract.ts";
import { createIndex } from "../../src/index/factory.ts";
import { decodeNpy, encodeNpy } from "../../src/io/npy.ts";
import type { Csr } from "../../src/math/csr.ts";
import { Rng } from "../../src/math/rng.ts";
import { TopK } from "../../src/math/topk.ts";
import { ALS } from "../../src/recall/als.ts";
import type { BenchContext } from "../types.ts";
import { arg, peakRssMB, runPeer } from "../util.ts";

const DIM = 64;

interface Vectors {
  source: string;
  items: Float32Array;
  users: Float32Array;
  seen: Csr | null;
}

function readF32(file: string): Float32Array {
  return decodeNpy(readFileSync(file), file).data as Float32Array;
}

async function loadVectors(ctx: BenchContext, mode: string): Promise<Vectors> {
  const dirs = [
    ctx.dataDir === undefined ? "" : join(ctx.dataDir, "gowalla"),
    resolve("../shared/data/gowalla"),
  ];
  const dir = dirs.find((d) => d !== "" && existsSync(join(d, "train.txt")));
  if (mode === "synthetic" || dir === undefined) {
    ctx.log("no Gowalla data: structured synthetic vectors (rank 16 + noise, log-normal norms)");
    return {
      source: "synthetic structured (structuredVectors rank 16, noise 0.1, normSpread 0.5)",
      items: structuredVectors(1, 40981, DIM, { rank: 16 }),
      users: structuredVectors(2, 29858, DIM, { rank: 16 }),
      seen: null,
    };
  }
  const data = await loadLightGcn(dir);
  const seen = userItemCsr(data.train, data.users.size, data.items.size);
  const cache = join(tmpdir(), "recallkit-bench");
  const fi = join(cache, "ann-als-gowalla-f64-i15-s42-items.npy");
  const fu = join(cache, "ann-als-gowalla-f64-i15-s42-users.npy");
  if (existsSync(fi) && existsSync(fu)) {
    ctx.log(`ALS vectors from cache ${cache}`);
  } else {
    ctx.log("training ALS on Gowalla (64 factors, 15 iterations) for item vectors …");
    const t0 = performance.now();
    const e = (await new ALS({ factors: DIM, iterations: 15, seed: 42 }).fit(data)).embeddings();
    ctx.log(`ALS trained in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    mkdirSync(cache, { recursive: true });
    writeFileSync(fi, encodeNpy(e.items, [e.items.length / DIM, DIM]));
    writeFileSync(fu, encodeNpy(e.users, [e.users.length / DIM, DIM]));
  }
  return {
    source: "ALS item/user factors, Gowalla (64 f, 15 it, hkv α=40, seed 42)",
    items: readF32(fi),
    users: readF32(fu),
    seen,
  };
}

/** Best qps with recall ≥ target in a peer's sweep, or null. */
function peerBest(
  sweep: { recall: number; qps_1thread: number }[],
  target: number,
): { recall: number; qps_1thread: number } | null {
  const ok = sweep.filter((r) => r.recall >= target);
  return ok.length === 0 ? null : ok.reduce((a, b) => (b.qps_1thread > a.qps_1thread ? b : a));
}

export async function run(ctx: BenchContext): Promise<void> {
  const nQ = Number(arg(ctx.args, "queries", "2000"));
  const k = Number(arg(ctx.args, "k", "20"));
  const ms = arg(ctx.args, "M", "16").split(",").map(Number);
  const efC = Number(arg(ctx.args, "efC", "200"));
  const efs = arg(ctx.args, "ef", "16,32,64,128,256,512").split(",").map(Number);
  const peersOn = arg(ctx.args, "peers", "on") !== "off";
  const heads = arg(ctx.args, "head", "0.01,0").split(",").map(Number);
  const v = await loadVectors(ctx, arg(ctx.args, "vectors", "auto"));
  const nItems = v.items.length / DIM;
  const nUsers = v.users.length / DIM;

  // --- peers first: they pick the queries (seeded) and cache the exact top-k for everyone
  const peersOut = join(tmpdir(), "recallkit-bench", "ann-peers");
  mkdirSync(peersOut, { recursive: true });
  writeFileSync(join(peersOut, "w2v_item_vectors.npy"), encodeNpy(v.items, [nItems, DIM]));
  writeFileSync(join(peersOut, "w2v_user_queries.npy"), encodeNpy(v.users, [nUsers, DIM]));
  const peerArgs = [
    "--vectors",
    "w2v",
    "--n-queries",
    String(nQ),
    "--k",
    String(k),
    "--M",
    ms.join(","),
    "--ef-construction",
    String(efC),
    "--build-threads",
    "1",
    "--cache-dir",
    peersOut,
  ];
  const peers: Record<string, Record<string, unknown> | string> = {};
  if (peersOn) {
    const prev = process.env.PEERS_OUT;
    process.env.PEERS_OUT = peersOut;
    for (const script of ["ann_faiss.py", "ann_hnswlib.py"]) {
      ctx.log(`peer ${script} …`);
      const p = runPeer(script, peerArgs);
      peers[script] = p.result ?? `not run: ${p.reason}`;
    }
    if (prev === undefined) delete process.env.PEERS_OUT;
    else process.env.PEERS_OUT = prev;
  }
  const tag = `ann_w2v_${nItems}x${DIM}_q${Math.min(nQ, nUsers)}_s42_k${k}`;
  const qFile = join(peersOut, `${tag}_queries.npy`);
  const gtFile = join(peersOut, `${tag}_gt.npy`);
  let queries: Float32Array;
  let queryUsers: Int32Array | null = null;
  let truth: TopK;
  const exact = new BruteForceIndex(DIM, "ip");
  exact.add(v.items);
  if (peersOn && existsSync(qFile) && existsSync(gtFile)) {
    queries = readF32(qFile);
    const gt = decodeNpy(readFileSync(gtFile), gtFile).data as Int32Array;
    truth = new TopK(queries.length / DIM, k);
    truth.ids.set(gt);
    truth.counts.fill(k);
    ctx.log(`queries and exact top-${k} from the peers' cache (${tag})`);
  } else {
    const rng = new Rng(42);
    queryUsers = Int32Array.from(
      rng.shuffle(Int32Array.from({ length: nUsers }, (_, u) => u)).subarray(0, nQ),
    );
    queries = new Float32Array(nQ * DIM);
    for (let i = 0; i < nQ; i++)
      queries.set(v.users.subarray(queryUsers[i] * DIM, (queryUsers[i] + 1) * DIM), i * DIM);
    truth = exact.searchBatch(queries, nQ, k);
  }
  const n = queries.length / DIM;

  // --- exact
  let t0 = performance.now();
  const exactRes = exact.searchBatch(queries, n, k);
  const exactBatchS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const nSingle = Math.min(n, 300);
  for (let q = 0; q < nSingle; q++) exact.search(queries.subarray(q * DIM, (q + 1) * DIM), k);
  const exactSingleS = (performance.now() - t0) / 1000;
  const flatQps = n / exactBatchS;
  ctx.emit({
    suite: "ann",
    dataset: v.source,
    model: "Flat (BruteForceIndex, ip)",
    params: { nItems, dim: DIM, queries: n, k },
    metrics: {
      recall: recallAtK(exactRes, truth),
      qpsBatch1Thread: flatQps,
      qpsSingle1Thread: nSingle / exactSingleS,
    },
    seconds: { searchBatch: exactBatchS },
    peakRssMB: peakRssMB(),
  });

  // --- HNSW
  const faiss =
    typeof peers["ann_faiss.py"] === "object"
      ? (peers["ann_faiss.py"] as {
          indexes: {
            index: string;
            build_s: number;
            sweep: { ef_search?: number; recall: number; qps_1thread: number }[];
          }[];
        })
      : null;
  const hnswPeer =
    typeof peers["ann_hnswlib.py"] === "object"
      ? (peers["ann_hnswlib.py"] as {
          indexes: {
            index: string;
            build_s: number;
            sweep: { ef?: number; recall: number; qps_1thread: number }[];
          }[];
        })
      : null;
  for (const m of ms) {
    for (const head of heads) {
      const spec = `HNSW${m},efC=${efC}`;
      const index = createIndex(spec, DIM, "ip", { mipsHead: head });
      t0 = performance.now();
      index.add(v.items);
      const buildS = (performance.now() - t0) / 1000;
      ctx.log(`${spec} mipsHead=${head} built in ${buildS.toFixed(1)} s`);
      const sweep: Record<string, number>[] = [];
      for (const ef of efs) {
        t0 = performance.now();
        const single = new TopK(n, k);
        for (let q = 0; q < n; q++) {
          const r = index.search(queries.subarray(q * DIM, (q + 1) * DIM), k, { ef });
          single.ids.set(r.ids, q * k);
          single.counts[q] = r.counts[0];
        }
        const singleS = (performance.now() - t0) / 1000;
        t0 = performance.now();
        const batch = index.searchBatch(queries, n, k, { ef });
        const batchS = (performance.now() - t0) / 1000;
        const row = {
          ef,
          recall: recallAtK(single, truth),
          recallBatch: recallAtK(batch, truth),
          qpsSingle1Thread: n / singleS,
          qpsBatch1Thread: n / batchS,
        };
        sweep.push(row);
        ctx.log(
          `  ef=${ef} recall@${k}=${row.recall.toFixed(4)} single ${row.qpsSingle1Thread.toFixed(0)} q/s, batch ${row.qpsBatch1Thread.toFixed(0)} q/s`,
        );
        if (row.recall >= 0.995) break;
      }
      // exclusions at the first ef reaching recall ≥ 0.95 (seen items from the train matrix)
      const at = sweep.find((r) => r.recall >= 0.95) ?? sweep[sweep.length - 1];
      const excl: Record<string, number> = {};
      if (v.seen !== null && queryUsers === null) {
        // peers sampled users with numpy; map queries back to users by exact vector match
        const byKey = new Map<string, number>();
        for (let u = 0; u < nUsers; u++)
          byKey.set(Buffer.from(v.users.buffer, v.users.byteOffset + u * DIM * 4, 64).toString("base64"), u);
        queryUsers = Int32Array.from(
          { length: n },
          (_, q) =>
            byKey.get(Buffer.from(queries.buffer, queries.byteOffset + q * DIM * 4, 64).toString("base64")) ??
            0,
        );
      }
      if (v.seen !== null && queryUsers !== null) {
        const seen = v.seen;
        const rows = queryUsers;
        t0 = performance.now();
        const withList = index.searchBatch(queries, n, k, {
          ef: at.ef,
          exclude: { offsets: seen.offsets, indices: seen.indices, rows },
        });
        excl.qpsListExclude = n / ((performance.now() - t0) / 1000);
        const sets = Array.from(
          rows,
          (u) => new Set(seen.indices.subarray(seen.offsets[u], seen.offsets[u + 1])),
        );
        t0 = performance.now();
        const withPred = index.searchBatch(queries, n, k, { ef: at.ef, exclude: (id, q) => sets[q].has(id) });
        excl.qpsPredicateExclude = n / ((performance.now() - t0) / 1000);
        const exactEx = exact.searchBatch(queries, n, k, {
          exclude: { offsets: seen.offsets, indices: seen.indices, rows },
        });
        excl.recallListExclude = recallAtK(withList, exactEx);
        excl.recallPredicateExclude = recallAtK(withPred, exactEx);
        let leaked = 0;
        for (let q = 0; q < n; q++) for (const id of withList.row(q).ids) if (sets[q].has(id)) leaked++;
        excl.excludedReturned = leaked;
        excl.meanSeenPerQuery = rows.reduce((a, u) => a + seen.offsets[u + 1] - seen.offsets[u], 0) / n;
      }
      const extra: Record<string, unknown> = {
        sweep,
        exclusionAtEf: at.ef,
        exclusion: excl,
        mipsHead: head,
        note: "build 1 thread; queries 1 thread; recall@k vs exact inner product",
      };
      const fp = faiss?.indexes.find((i) => i.index.includes(`M=${m},`));
      const hp = hnswPeer?.indexes.find((i) => i.index.includes(`M=${m},`));
      const ours = peerBest(
        sweep.map((r) => ({ recall: r.recall, qps_1thread: r.qpsSingle1Thread })),
        0.95,
      );
      if (fp !== undefined) {
        const fb = peerBest(fp.sweep, 0.95);
        extra.faiss = {
          index: fp.index,
          build_s: fp.build_s,
          sweep: fp.sweep,
          bestAtRecall095: fb,
          flat: faiss?.indexes[0],
        };
        extra.ratios = {
          buildVsFaiss: buildS / fp.build_s,
          qpsAtRecall095VsFaiss: ours !== null && fb !== null ? ours.qps_1thread / fb.qps_1thread : null,
          maxRecallOursVsFaiss: [
            Math.max(...sweep.map((r) => r.recall)),
            Math.max(...fp.sweep.map((r) => r.recall)),
          ],
          sameEf: sweep.map((r) => {
            const f = fp.sweep.find((x) => x.ef_search === r.ef);
            return f === undefined
              ? null
              : { ef: r.ef, recall: [r.recall, f.recall], qps: [r.qpsSingle1Thread, f.qps_1thread] };
          }),
        };
      } else if (peersOn) extra.faiss = peers["ann_faiss.py"];
      if (hp !== undefined)
        extra.hnswlibPython = {
          index: hp.index,
          build_s: hp.build_s,
          sweep: hp.sweep,
          bestAtRecall095: peerBest(hp.sweep, 0.95),
        };
      else if (peersOn) extra.hnswlibPython = peers["ann_hnswlib.py"];
      const last = sweep[sweep.length - 1];
      const best = ours ?? { recall: last.recall, qps_1thread: last.qpsSingle1Thread };
      ctx.emit({
        suite: "ann",
        dataset: v.source,
        model: `${index.spec} (hnswlib-node, ip via MIPS transform, mipsHead ${head})`,
        params: { nItems, dim: DIM, queries: n, k, M: m, efC, efs },
        metrics: { bestRecallAtLeast095: best.recall, qpsAtThatRecall: best.qps_1thread, flatQps },
        seconds: { build: buildS },
        peakRssMB: peakRssMB(),
        extra,
      });
    }
  }
}
