/**
 * The config pipeline end to end on a small synthetic dataset: `trainFromConfig` saves the ANN
 * indexes and the service opens them (no HNSW build on start or reload) with answers identical
 * to a fresh build; a changed spec or retrained model rebuilds. `evaluateFromConfig` merges
 * the channels exactly as served (quota, skipDuplicates, weights).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, mock, test } from "node:test";
import { userItemCsr } from "../data/matrix.ts";
import { resolveDataset } from "../data/resolve.ts";
import { HnswIndex } from "../index/hnsw.ts";
import { mergeTopK } from "../recall/merge.ts";
import { PopularityPrior } from "../recall/popularity-prior.ts";
import type { Dataset } from "../types.ts";
import type { RecallResponse } from "./api.ts";
import { parseConfig, type RecallConfig, type RecallConfigInput } from "./config.ts";
import { createService } from "./index.ts";
import { evaluateFromConfig, servedLists, trainFromConfig } from "./pipeline.ts";

describe("config pipeline: saved ANN indexes, eval as served", () => {
  let dir = "";
  let ds: Dataset;
  let input: RecallConfigInput;
  let config: RecallConfig;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rk-pipeline-"));
    ds = await resolveDataset("synthetic:seed=7,users=300,items=200");
    input = {
      artifacts: dir,
      models: {
        popular: { type: "popular" },
        als: { type: "als", params: { factors: 16, iterations: 3, workers: 0 } },
      },
      channels: {
        // Generous timeouts: these tests compare answers, and a loaded machine must not turn a
        // slow request into a skipped channel (timeouts have their own test in app.test.ts).
        "u2i/als": { model: "als", retrieval: "ann", index: "HNSW16,ef=64", k: 30, timeoutMs: 10_000 },
        "i2i/als": {
          model: "als",
          retrieval: "ann",
          source: "recent",
          seeds: 3,
          index: "HNSW16,ef=64",
          k: 20,
          timeoutMs: 10_000,
        },
        "u2i/popular": { model: "popular", k: 25, timeoutMs: 10_000 },
      },
      merge: { k: 60 },
      eval: { ks: [20] },
      server: { logLevel: "silent" },
    };
    config = parseConfig(input);
    const r = await trainFromConfig(config, { dataset: ds });
    assert.equal(r.indexes.length, 1, "u2i/als and i2i/als share one index");
  });
  after(async () => {
    mock.restoreAll();
    await rm(dir, { recursive: true, force: true });
  });

  const ask = async (svc: Awaited<ReturnType<typeof createService>>) => {
    const out: string[][] = [];
    for (const user of ["u1", "u2", "u17", "cold-user"]) {
      const r = await svc.app.inject({
        method: "POST",
        url: "/v1/recall",
        payload: { user, k: 40, recentItems: ["i4", "i9"] },
      });
      assert.equal(r.statusCode, 200, r.body);
      out.push((r.json() as RecallResponse).items.map((i) => `${i.item}:${i.insertedBy}`));
    }
    return out;
  };

  test("serve opens the saved index (no build on start or reload); answers equal a fresh build", async () => {
    const adds = mock.method(HnswIndex.prototype, "add");
    const svc = await createService(config, { defaultMetrics: false });
    try {
      const [rep] = svc.service.state.annIndexes;
      assert.equal(rep.origin, "artifact", rep.reason);
      assert.deepEqual(rep.channels, ["u2i/als", "i2i/als"]);
      const before = svc.service.state;
      const rr = await svc.reload();
      assert.equal(rr.annIndexes[0]?.origin, "reused", "unchanged model: the served index is kept");
      assert.equal(svc.service.state.annCache.get(rep.key)?.index, before.annCache.get(rep.key)?.index);
      assert.equal(adds.mock.callCount(), 0, "no HNSW build while serving from artifacts");
      const saved = await ask(svc);
      // A fresh build of the same spec over the same vectors: the index artifact removed.
      await rm(join(dir, "ann"), { recursive: true, force: true });
      const rebuilt = await createService(config, { defaultMetrics: false });
      try {
        const [r2] = rebuilt.service.state.annIndexes;
        assert.equal(r2.origin, "built");
        assert.match(r2.reason ?? "", /no saved index/);
        assert.ok(adds.mock.callCount() > 0);
        assert.deepEqual(await ask(rebuilt), saved);
      } finally {
        await rebuilt.close();
      }
    } finally {
      adds.mock.restore();
      await svc.close();
    }
  });

  test("a changed spec or retrained model rebuilds instead of serving a stale index", async () => {
    await trainFromConfig(config, { dataset: ds, only: ["als"] });
    const respec = parseConfig({
      ...input,
      channels: { "u2i/als": { model: "als", retrieval: "ann", index: "HNSW16,ef=32", k: 30 } },
    });
    const a = await createService(respec, { defaultMetrics: false });
    try {
      assert.equal(a.service.state.annIndexes[0].origin, "built");
      assert.match(a.service.state.annIndexes[0].reason ?? "", /no saved index/);
    } finally {
      await a.close();
    }
    // Same spec, other vectors: the source record no longer matches.
    const idx = join(dir, "ann", "als.HNSW16_ef=64.ip", "source.json");
    const rec = JSON.parse(await readFile(idx, "utf8"));
    await writeFile(idx, JSON.stringify({ ...rec, vectors: "0".repeat(64) }));
    const b = await createService(config, { defaultMetrics: false });
    try {
      assert.equal(b.service.state.annIndexes[0].origin, "built");
      assert.match(b.service.state.annIndexes[0].reason ?? "", /other item vectors/);
    } finally {
      await b.close();
    }
  });

  test("reload reuses what did not change on disk and picks up a retrained model", async () => {
    await trainFromConfig(config, { dataset: ds });
    const svc = await createService(config, { defaultMetrics: false });
    try {
      const s1 = svc.service.state;
      const r1 = await svc.reload();
      const s2 = svc.service.state;
      assert.equal(s2.version, s1.version + 1);
      assert.equal(s2.catalogue, s1.catalogue, "unchanged catalogue: reused, not parsed again");
      assert.equal(s2.models.get("als"), s1.models.get("als"));
      assert.equal(s2.models.get("popular"), s1.models.get("popular"));
      assert.equal(r1.annIndexes[0]?.origin, "reused");
      // Retrain ALS only (other iterations: other vectors): the reload loads it and its index.
      const retrained = parseConfig({
        ...input,
        models: { ...input.models, als: { type: "als", params: { factors: 16, iterations: 4, workers: 0 } } },
      });
      await trainFromConfig(retrained, { dataset: ds, only: ["als"] });
      const r2 = await svc.reload();
      const s3 = svc.service.state;
      assert.notEqual(s3.models.get("als"), s2.models.get("als"), "a retrained artifact is loaded");
      assert.equal(s3.models.get("popular"), s2.models.get("popular"));
      assert.equal(s3.catalogue, s2.catalogue);
      assert.equal(r2.annIndexes[0]?.origin, "artifact", r2.annIndexes[0]?.reason);
      const fresh = await createService(config, { defaultMetrics: false });
      try {
        assert.deepEqual(await ask(svc), await ask(fresh), "the reloaded service answers as a fresh start");
      } finally {
        await fresh.close();
      }
    } finally {
      await svc.close();
    }
  });

  test("eval merges each channel's quota with the configured options exactly as served", async () => {
    const weights = { "u2i/popular": 0.5 };
    const cfg = parseConfig({ ...input, merge: { k: 40, skipDuplicates: false, weights } });
    const svc = await createService(cfg, { defaultMetrics: false });
    try {
      const st = svc.service.state;
      const users = Int32Array.from({ length: 30 }, (_, i) => i);
      const { lists, quotas } = await servedLists(cfg, st, users, 40);
      assert.deepEqual(quotas, { "u2i/als": 30, "i2i/als": 20, "u2i/popular": 25 });
      const m = mergeTopK(lists, 40, { strategy: "roundRobin", skipDuplicates: false, weights });
      for (const u of users) {
        const user = st.catalogue.users.id(u);
        const r = await svc.app.inject({ method: "POST", url: "/v1/recall", payload: { user, k: 40 } });
        const got = (r.json() as RecallResponse).items.map((i) => i.item);
        assert.equal(got.length, 40, user);
        assert.deepEqual(
          got,
          Array.from(m.row(u).ids, (i) => st.catalogue.items.id(i)),
          user,
        );
      }
    } finally {
      await svc.close();
    }
    const ev = await evaluateFromConfig(cfg, { dataset: ds });
    assert.deepEqual(
      ev.channels.map((c) => c.name),
      ["u2i/als", "i2i/als", "u2i/popular"],
    );
    const [served] = ev.merged;
    assert.equal(served.name, "merge/roundRobin");
    assert.equal(served.params.served, true);
    assert.deepEqual(served.params.quotas, { "u2i/als": 30, "i2i/als": 20, "u2i/popular": 25 });
    assert.ok(served.metrics["recall@40"] > 0);
  });

  test("merge.weights must name configured channels", () => {
    assert.throws(
      () => parseConfig({ ...input, merge: { weights: { "u2i/nope": 2 } } }),
      /merge\.weights\."u2i\/nope": no channel "u2i\/nope"/,
    );
  });
});

test("recall.yaml: a model with popularityPrior trains, saves, and serves through an ip ANN channel as it ranks", async () => {
  const dir = await mkdtemp(join(tmpdir(), "rk-prior-pipeline-"));
  try {
    const ds = await resolveDataset("synthetic:seed=7,users=300,items=200");
    const config = parseConfig({
      artifacts: dir,
      models: {
        mf: { type: "mf-softmax", params: { dim: 16, epochs: 2, nGlobal: 32, popularityPrior: 0.02 } },
      },
      channels: {
        "u2i/mf": { model: "mf", retrieval: "ann", index: "Flat", metric: "ip", k: 10, timeoutMs: 10_000 },
      },
      server: { logLevel: "silent" },
    });
    await trainFromConfig(config, { dataset: ds });
    const svc = await createService(config, { defaultMetrics: false });
    try {
      const model = svc.service.state.models.get("mf");
      assert.ok(model instanceof PopularityPrior && model.beta === 0.02);
      const r = await svc.app.inject({ method: "POST", url: "/v1/recall", payload: { user: "u3", k: 10 } });
      assert.equal(r.statusCode, 200, r.body);
      const served = (r.json() as RecallResponse).items.map((i) => i.item);
      const u = ds.users.indexOf("u3");
      const seen = userItemCsr(ds.train, ds.users.size, ds.items.size);
      const want = model.recommend(Int32Array.of(u), 10, { exclude: seen }).row(0);
      assert.deepEqual(
        served,
        Array.from(want.ids, (i) => ds.items.id(i)),
      );
    } finally {
      await svc.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
