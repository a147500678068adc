import assert from "node:assert/strict";
import { test } from "node:test";
import { RecallkitError } from "../errors.ts";
import { TopK } from "../math/topk.ts";
import type { Recommender } from "../recommender.ts";
import { runApiSuite, serveFixture } from "./api.case.test.ts";
import type { RecallResponse } from "./api.ts";
import { parseConfig } from "./config.ts";
import { createService } from "./index.ts";

runApiSuite("embedded store", async () => {
  const fx = await serveFixture();
  return createService(fx.config, { dataset: fx.ds, models: fx.models, defaultMetrics: false });
});

/** A model whose recommend throws, or answers after `delayMs`. */
function fakeModel(behaviour: "throw" | { delayMs: number }): Recommender {
  return {
    kind: "fake",
    fit: async function (this: Recommender) {
      return this;
    } as Recommender["fit"],
    params: () => ({}),
    save: async () => {},
    recommend(_users: Int32Array, k: number) {
      if (behaviour === "throw") throw new Error("boom");
      return new Promise<TopK>((resolve) => setTimeout(() => resolve(new TopK(1, k)), behaviour.delayMs));
    },
  };
}

test("a failing or timed-out channel is skipped with a warning, never a 500", async () => {
  const fx = await serveFixture();
  const svc = await createService(
    {
      ...fx.config,
      channels: {
        "u2i/popular": { model: "popular", k: 20 },
        "u2i/broken": { model: fakeModel("throw"), k: 20 },
        "u2i/slow": { model: fakeModel({ delayMs: 300 }), k: 20, timeoutMs: 20 },
      },
    },
    { dataset: fx.ds, models: fx.models, defaultMetrics: false },
  );
  try {
    const t0 = performance.now();
    const r = await svc.app.inject({ method: "POST", url: "/v1/recall", payload: { user: "u1", k: 10 } });
    const ms = performance.now() - t0;
    assert.equal(r.statusCode, 200, r.body);
    const b = r.json() as RecallResponse;
    assert.equal(b.items.length, 10);
    const st = Object.fromEntries(b.channels.map((c) => [c.name, c.status]));
    assert.deepEqual(st, { "u2i/popular": "ok", "u2i/broken": "error", "u2i/slow": "timeout" });
    assert.ok(
      b.warnings.some((w) => /^u2i\/broken: failed \(boom\)/.test(w)),
      b.warnings.join("|"),
    );
    assert.ok(
      b.warnings.some((w) => /^u2i\/slow: timed out after 20 ms/.test(w)),
      b.warnings.join("|"),
    );
    assert.ok(ms < 250, `the slow channel was not awaited (${ms.toFixed(0)} ms)`);
    const m = await svc.app.inject({ url: "/metrics" });
    assert.match(m.body, /recallkit_channel_outcomes_total\{channel="u2i\/slow",status="timeout"\} 1/);
  } finally {
    await svc.close();
  }
});

test("reload under load: in-flight and concurrent requests never fail", async () => {
  const fx = await serveFixture();
  const svc = await createService(fx.config, { dataset: fx.ds, models: fx.models, defaultMetrics: false });
  try {
    const reqs: Promise<number>[] = [];
    const reloads: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      reqs.push(
        svc.app
          .inject({ method: "POST", url: "/v1/recall", payload: { user: `u${i % 20}`, k: 20 } })
          .then((r) => r.statusCode),
      );
      if (i % 15 === 0) reloads.push(svc.reload());
    }
    const codes = await Promise.all(reqs);
    await Promise.all(reloads);
    assert.deepEqual(new Set(codes), new Set([200]));
    assert.ok(svc.service.state.version >= 2);
  } finally {
    await svc.close();
  }
});

test("a failed reload keeps the old state serving", async () => {
  const fx = await serveFixture();
  // No dataset/models handed over: a reload must read artifacts, and there are none here.
  const svc = await createService(
    { ...fx.config, artifacts: "/nonexistent/recallkit-test-artifacts" },
    { dataset: fx.ds, models: fx.models, defaultMetrics: false },
  );
  try {
    (svc.service as unknown as { sources: object }).sources = {};
    const r = await svc.app.inject({ method: "POST", url: "/admin/reload" });
    assert.equal(r.statusCode, 500);
    assert.match(r.body, /RK_SERVE_RELOAD_FAILED.*no catalogue at/);
    const ok = await svc.app.inject({ method: "POST", url: "/v1/recall", payload: { user: "u1", k: 5 } });
    assert.equal(ok.statusCode, 200);
    assert.equal((ok.json() as RecallResponse).stateVersion, 1);
  } finally {
    await svc.close();
  }
});

test("admin token guards /admin/reload", async () => {
  const fx = await serveFixture();
  const svc = await createService(
    { ...fx.config, admin: { token: "s3cret" } },
    { dataset: fx.ds, models: fx.models, defaultMetrics: false },
  );
  try {
    assert.equal((await svc.app.inject({ method: "POST", url: "/admin/reload" })).statusCode, 401);
    const ok = await svc.app.inject({
      method: "POST",
      url: "/admin/reload",
      headers: { authorization: "Bearer s3cret" },
    });
    assert.equal(ok.statusCode, 200);
  } finally {
    await svc.close();
  }
});

test("config errors name the field and stop startup", () => {
  const base = { models: { p: { type: "popular" } }, channels: { "u2i/p": { model: "p" } } };
  const bad: [unknown, RegExp][] = [
    [
      { ...base, channels: { "u2i/p": { model: "p", k: "many" } } },
      /channels\."u2i\/p"\.k: .*expected number, received string/,
    ],
    [
      { ...base, channels: { "u2i/p": { model: "q" } } },
      /channels\."u2i\/p"\.model: no model "q" under models/,
    ],
    [{ ...base, models: { p: { type: "nope" } } }, /models\.p\.type: unknown model type "nope"/],
    [{ ...base, channels: { popular: { model: "p" } } }, /channels\.popular: .*kind\/name/],
    [{ ...base, channels: {} }, /channels: at least one channel/],
    [{ ...base, store: { type: "redis", url: 5 } }, /store\.url: /],
    [{ ...base, merge: { strategy: "random" } }, /merge\.strategy: /],
    [
      { ...base, channels: { "u2i/p": { model: "p", retrieval: "ann", index: "IVF" } } },
      /channels\."u2i\/p"\.index: index spec "IVF"/,
    ],
    [{ ...base, filters: { rules: [{ field: "city" }] } }, /filters\.rules\[0\]: a rule needs exactly one/],
    [
      {
        models: { mf: { type: "mf-softmax", params: { popularityPrior: 0.01 } } },
        channels: { "u2i/mf": { model: "mf", retrieval: "ann", metric: "cosine" } },
      },
      /channels\."u2i\/mf"\.metric: model "mf" has popularityPrior 0\.01: .*use metric "ip"/,
    ],
    [{ ...base, extra: 1 }, /\(root\): Unrecognized key: "extra"/],
  ];
  for (const [cfg, re] of bad)
    assert.throws(
      () => parseConfig(cfg, "recall.yaml"),
      (err: unknown) => err instanceof RecallkitError && err.code === "RK_ERR_CONFIG" && re.test(err.message),
      `expected ${re}`,
    );
  const c = parseConfig(base);
  assert.equal(c.merge.strategy, "roundRobin");
  assert.equal(c.channels["u2i/p"].k, 100);
  assert.deepEqual(c.store, { type: "embedded" });
  assert.deepEqual(parseConfig({ ...base, store: "redis" }).store, {
    type: "redis",
    url: "redis://127.0.0.1:6379",
    prefix: "rk:",
    commandTimeoutMs: 50,
    fallback: "embedded",
    keepOldListsMs: 60_000,
  });
});

test("precomputed U2I lists answer known users exactly as the live model does", async () => {
  const fx = await serveFixture();
  const make = (precompute: boolean) =>
    createService(
      { ...fx.config, channels: { "u2i/itemcf": { model: "itemcf", k: 30, precompute } } },
      { dataset: fx.ds, models: fx.models, defaultMetrics: false },
    );
  const [live, pre] = [await make(false), await make(true)];
  try {
    assert.match(pre.service.channels()[0].describe, /precomputed top-45 lists/);
    for (const user of ["u1", "u2", "u9", "cold-user"]) {
      const body = { user, k: 30, recentItems: ["i4"] };
      const a = (
        await live.app.inject({ method: "POST", url: "/v1/recall", payload: body })
      ).json() as RecallResponse;
      const b = (
        await pre.app.inject({ method: "POST", url: "/v1/recall", payload: body })
      ).json() as RecallResponse;
      assert.deepEqual(
        b.items.map((i) => i.item),
        a.items.map((i) => i.item),
        user,
      );
    }
  } finally {
    await live.close();
    await pre.close();
  }
});
