/**
 * The API conformance suite (Hono's `common.case.test.ts`): every store runs the same requests.
 * This file defines no tests itself; app.test.ts (embedded) and store-redis.test.ts (Redis) call
 * `runApiSuite`. `serveFixture` fits small models on a small synthetic dataset once per process.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { attributeValues } from "../data/attributes.ts";
import { userItemCsr } from "../data/matrix.ts";
import { resolveDataset } from "../data/resolve.ts";
import type { Recommender } from "../recommender.ts";
import { createModel } from "../registry.ts";
import type { Dataset } from "../types.ts";
import type { RecallResponse } from "./api.ts";
import { csrRow } from "./catalogue.ts";
import { sortedHas } from "./channel.ts";
import type { RecallConfigInput } from "./config.ts";
import type { Service } from "./index.ts";

export interface ServeFixture {
  readonly ds: Dataset;
  readonly models: Record<string, Recommender>;
  readonly config: RecallConfigInput;
}

let cached: Promise<ServeFixture> | null = null;

export function serveFixture(): Promise<ServeFixture> {
  cached ??= (async () => {
    const ds = await resolveDataset("synthetic:seed=7,users=300,items=200");
    const spec = {
      popular: { type: "popular", params: {} },
      attrs: { type: "inverted-index", params: {} },
      itemcf: { type: "itemcf", params: { workers: 0, neighbors: 50 } },
      usercf: { type: "usercf", params: { workers: 0, neighbors: 50 } },
    };
    const models: Record<string, Recommender> = {};
    for (const [key, m] of Object.entries(spec)) models[key] = await createModel(m.type, m.params).fit(ds);
    const config: RecallConfigInput = {
      models: spec,
      // Generous timeouts: the suite compares answers, and a loaded machine must not turn a slow
      // request into a skipped channel (timeouts have their own test in app.test.ts).
      channels: {
        "u2i/popular": { model: "popular", k: 50, timeoutMs: 10_000 },
        "u2i/itemcf": { model: "itemcf", k: 50, timeoutMs: 10_000 },
        "i2i/itemcf": { model: "itemcf", source: "recent", seeds: 5, k: 50, timeoutMs: 10_000 },
        "u2i/usercf": { model: "usercf", k: 50, when: "known", timeoutMs: 10_000 },
        "u2i/attrs": { model: "attrs", k: 50, when: "known", timeoutMs: 10_000 },
        "cold/attrs": { model: "attrs", source: "attributes", k: 50, when: "cold", timeoutMs: 10_000 },
      },
      merge: { k: 100 },
      request: { maxK: 500, maxItems: 50 },
      server: { logLevel: "silent", bodyLimitBytes: 4096 },
    };
    return { ds, models, config };
  })();
  return cached;
}

async function post(svc: Service, url: string, body: unknown) {
  const r = await svc.app.inject({ method: "POST", url, payload: body as object });
  return { status: r.statusCode, json: r.json() as Record<string, unknown> & RecallResponse };
}

function errorOf(r: { json: unknown }): { code: string; message: string } {
  return (r.json as { error: { code: string; message: string } }).error;
}

/**
 * The shared suite. `make` builds a fresh service per describe block; `userPrefix` keeps users
 * of different runs apart when a store outlives the service (Redis).
 */
export function runApiSuite(label: string, make: () => Promise<Service>, userPrefix = ""): void {
  describe(`recall API (${label})`, () => {
    let svc: Service;
    let fx: ServeFixture;
    before(async () => {
      fx = await serveFixture();
      svc = await make();
    });
    after(async () => {
      await svc.close();
    });

    test("known user: merged items with provenance, no duplicates, seen items excluded", async () => {
      const r = await post(svc, "/v1/recall", { user: "u3", k: 40 });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const b = r.json;
      assert.equal(b.path, "known");
      assert.equal(b.items.length, 40);
      assert.equal(new Set(b.items.map((i) => i.item)).size, 40, "no duplicates");
      const train = userItemCsr(fx.ds.train, fx.ds.users.size, fx.ds.items.size);
      const seen = csrRow(train, fx.ds.users.indexOf("u3"));
      for (const it of b.items) {
        assert.ok(!sortedHas(seen, fx.ds.items.indexOf(it.item)), `${it.item} was seen`);
        assert.ok(it.channels.length >= 1);
        assert.ok(it.channels.some((p) => p.channel === it.insertedBy));
        for (const p of it.channels) assert.ok(p.rank >= 1 && Number.isFinite(p.score));
      }
      const names = b.channels.map((c) => c.name);
      assert.deepEqual(names, [
        "u2i/popular",
        "u2i/itemcf",
        "i2i/itemcf",
        "u2i/usercf",
        "u2i/attrs",
        "cold/attrs",
      ]);
      for (const c of b.channels) {
        assert.ok(c.ms >= 0);
        if (c.name === "cold/attrs") assert.equal(c.status, "skipped");
        else assert.equal(c.status, "ok", JSON.stringify(c));
      }
      // Round robin: the first items come one from each channel that had something new.
      assert.equal(b.items[0].insertedBy, "u2i/popular");
      assert.ok(b.items.slice(0, 5).some((i) => i.insertedBy === "u2i/itemcf"));
    });

    test("default k is merge.k; each channel keeps its quota", async () => {
      const r = await post(svc, "/v1/recall", { user: "u4" });
      assert.equal(r.status, 200);
      assert.equal(r.json.k, 100);
      assert.ok(r.json.items.length <= 100);
      for (const c of r.json.channels) assert.ok(c.kept <= 50);
    });

    test("unknown user takes the cold-start path (popular + attributes from userFeatures)", async () => {
      const r = await post(svc, "/v1/recall", {
        user: `${userPrefix}stranger-1`,
        k: 30,
        userFeatures: { gender: "F", age: ["25-34"] },
      });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.path, "cold");
      const st = Object.fromEntries(r.json.channels.map((c) => [c.name, c.status]));
      assert.equal(st["u2i/popular"], "ok");
      assert.equal(st["cold/attrs"], "ok");
      assert.equal(st["u2i/usercf"], "skipped");
      assert.equal(st["i2i/itemcf"], "empty", "no recent items yet");
      assert.equal(r.json.items.length, 30);
      assert.ok(r.json.items.some((i) => i.channels.some((p) => p.channel === "cold/attrs")));
    });

    test("events update the recent history at once: excluded and used as I2I seeds", async () => {
      const user = `${userPrefix}stranger-2`;
      const ev = await post(svc, "/v1/events", { user, items: ["i10", "i11"], event: "click" });
      assert.equal(ev.status, 200, JSON.stringify(ev.json));
      assert.equal((ev.json as unknown as { accepted: number }).accepted, 2);
      const r = await post(svc, "/v1/recall", { user, k: 50 });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.context.recentItems, ["i10", "i11"]);
      const i2i = r.json.channels.find((c) => c.name === "i2i/itemcf");
      assert.equal(i2i?.status, "ok");
      const items = r.json.items.map((i) => i.item);
      assert.ok(!items.includes("i10") && !items.includes("i11"), "event items are excluded as seen");
      // With excludeSeen off they may come back, and the request's own recentItems count too.
      const r2 = await post(svc, "/v1/recall", {
        user,
        k: 50,
        recentItems: ["i12"],
        filters: { excludeSeen: false },
      });
      assert.deepEqual(r2.json.context.recentItems, ["i10", "i11", "i12"]);
      assert.equal(r2.json.context.excludeSeen, false);
    });

    test("business rules on attributes and excludeItems filter every channel", async () => {
      const r = await post(svc, "/v1/recall", {
        user: "u5",
        k: 30,
        filters: { rules: [{ field: "city", in: ["city1", "city2"] }], excludeItems: ["i0"] },
      });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.ok(r.json.items.length > 0);
      const city = fx.ds.itemAttributes.get("city");
      assert.ok(city !== undefined);
      for (const it of r.json.items) {
        assert.notEqual(it.item, "i0");
        const v = attributeValues(city, fx.ds.items.indexOf(it.item));
        assert.ok(v.includes("city1") || v.includes("city2"), `${it.item} has city ${v}`);
      }
      const notIn = await post(svc, "/v1/recall", {
        user: "u5",
        k: 30,
        filters: { rules: [{ field: "city", notIn: ["city1"] }] },
      });
      for (const it of notIn.json.items)
        assert.ok(!attributeValues(city, fx.ds.items.indexOf(it.item)).includes("city1"));
    });

    test("channels restricts the request to named channels", async () => {
      const r = await post(svc, "/v1/recall", { user: "u6", k: 10, channels: ["u2i/itemcf"] });
      assert.equal(r.status, 200);
      assert.ok(r.json.items.every((i) => i.insertedBy === "u2i/itemcf"));
    });

    test("similar items", async () => {
      const r = await svc.app.inject({ method: "GET", url: "/v1/similar-items/i3?k=5" });
      assert.equal(r.statusCode, 200, r.body);
      const b = r.json() as { item: string; model: string; items: { item: string; score: number }[] };
      assert.equal(b.item, "i3");
      assert.equal(b.model, "itemcf");
      assert.ok(b.items.length > 0 && b.items.length <= 5);
      assert.ok(!b.items.some((x) => x.item === "i3"));
      const nf = await svc.app.inject({ method: "GET", url: "/v1/similar-items/nope" });
      assert.equal(nf.statusCode, 404);
      assert.match(nf.body, /RK_SERVE_ITEM_NOT_FOUND/);
    });

    describe("bad requests get 4xx naming the field", () => {
      const cases: [string, unknown, number, RegExp][] = [
        [
          "k of the wrong type",
          { user: "u1", k: "ten" },
          400,
          /^body\.k: .*expected number, received string/,
        ],
        ["k not an integer", { user: "u1", k: 2.5 }, 400, /^body\.k: /],
        ["huge k", { user: "u1", k: 1e9 }, 400, /^body\.k: .*<=\s?500/],
        ["zero k", { user: "u1", k: 0 }, 400, /^body\.k: /],
        ["user missing", { k: 10 }, 400, /^body\.user: /],
        ["user of the wrong type", { user: 42 }, 400, /^body\.user: .*expected string/],
        ["empty user", { user: "" }, 400, /^body\.user: /],
        ["unknown field", { user: "u1", kk: 3 }, 400, /unknown field.*"kk"/],
        ["recentItems not an array", { user: "u1", recentItems: "i1" }, 400, /^body\.recentItems: /],
        [
          "recentItems element of the wrong type",
          { user: "u1", recentItems: ["i1", 7] },
          400,
          /^body\.recentItems\[1\]: /,
        ],
        [
          "unknown item id",
          { user: "u1", recentItems: ["i1", "no-such-item"] },
          400,
          /^recentItems\[1\]: unknown item id "no-such-item"/,
        ],
        [
          "unknown excluded item",
          { user: "u1", filters: { excludeItems: ["zzz"] } },
          400,
          /^filters\.excludeItems\[0\]: unknown item/,
        ],
        [
          "too many recentItems",
          { user: "u1", recentItems: Array(51).fill("i1") },
          400,
          /^body\.recentItems: /,
        ],
        [
          "rule on an unknown attribute",
          { user: "u1", filters: { rules: [{ field: "colour", in: ["red"] }] } },
          400,
          /^filters\.rules\[0\]\.field: unknown item attribute "colour"/,
        ],
        [
          "rule with both in and notIn",
          { user: "u1", filters: { rules: [{ field: "city", in: ["a"], notIn: ["b"] }] } },
          400,
          /^body\.filters\.rules\[0\]: .*exactly one/,
        ],
        [
          "unknown channel",
          { user: "u1", channels: ["u2i/nope"] },
          400,
          /^channels: unknown channel "u2i\/nope"/,
        ],
        [
          "userFeatures of the wrong type",
          { user: "u1", userFeatures: { age: 30 } },
          400,
          /^body\.userFeatures\.age: /,
        ],
        ["body is an array", [1, 2], 400, /^body: /],
      ];
      for (const [name, body, status, re] of cases)
        test(name, async () => {
          const r = await post(svc, "/v1/recall", body);
          assert.equal(r.status, status, JSON.stringify(r.json));
          const e = errorOf(r);
          assert.match(e.message, re);
          assert.match(e.code, /^RK_SERVE_/);
        });

      test("malformed JSON", async () => {
        const r = await svc.app.inject({
          method: "POST",
          url: "/v1/recall",
          headers: { "content-type": "application/json" },
          payload: '{"user": "u1", "k": ',
        });
        assert.equal(r.statusCode, 400);
        assert.equal(errorOf({ json: r.json() }).code, "RK_SERVE_INVALID_JSON");
        assert.match(errorOf({ json: r.json() }).message, /^body: not valid JSON/);
      });
      test("empty body", async () => {
        const r = await svc.app.inject({
          method: "POST",
          url: "/v1/recall",
          headers: { "content-type": "application/json" },
          payload: "",
        });
        assert.equal(r.statusCode, 400);
      });
      test("wrong content type", async () => {
        const r = await svc.app.inject({
          method: "POST",
          url: "/v1/recall",
          headers: { "content-type": "text/plain" },
          payload: "user=u1",
        });
        assert.equal(r.statusCode, 415);
        assert.equal(errorOf({ json: r.json() }).code, "RK_SERVE_UNSUPPORTED_MEDIA");
      });
      test("body over the limit", async () => {
        const r = await post(svc, "/v1/recall", { user: "u1", recentItems: Array(2000).fill("i1") });
        assert.equal(r.status, 413);
      });
      test("events: empty items, unknown item", async () => {
        const a = await post(svc, "/v1/events", { user: "u1", items: [] });
        assert.equal(a.status, 400);
        assert.match(errorOf(a).message, /^body\.items: /);
        const b = await post(svc, "/v1/events", { user: "u1", items: ["i1", "bogus"] });
        assert.equal(b.status, 400);
        assert.match(errorOf(b).message, /^items\[1\]: unknown item id "bogus"/);
      });
      test("similar-items: bad k, unknown model", async () => {
        const a = await svc.app.inject({ method: "GET", url: "/v1/similar-items/i1?k=abc" });
        assert.equal(a.statusCode, 400);
        assert.match(a.body, /query\.k: /);
        const b = await svc.app.inject({ method: "GET", url: "/v1/similar-items/i1?k=100000" });
        assert.equal(b.statusCode, 400);
        const c = await svc.app.inject({ method: "GET", url: "/v1/similar-items/i1?model=popular" });
        assert.equal(c.statusCode, 400);
        assert.match(c.body, /model: /);
      });
      test("unknown route", async () => {
        const r = await svc.app.inject({ method: "GET", url: "/v2/recall" });
        assert.equal(r.statusCode, 404);
        assert.equal(errorOf({ json: r.json() }).code, "RK_SERVE_NOT_FOUND");
      });
    });

    test("healthz, readyz, metrics, openapi, channels", async () => {
      assert.equal((await svc.app.inject({ url: "/healthz" })).statusCode, 200);
      const ready = await svc.app.inject({ url: "/readyz" });
      assert.equal(ready.statusCode, 200, ready.body);
      const m = await svc.app.inject({ url: "/metrics" });
      assert.equal(m.statusCode, 200);
      assert.match(m.body, /recallkit_channel_duration_seconds_bucket\{le="0.001",channel="u2i\/itemcf"\}/);
      assert.match(
        m.body,
        /recallkit_http_request_duration_seconds_count\{method="POST",route="\/v1\/recall",status="200"\}/,
      );
      const doc = (await svc.app.inject({ url: "/openapi.json" })).json() as {
        openapi: string;
        paths: Record<
          string,
          { post?: { requestBody: { content: { "application/json": { schema: { properties: object } } } } } }
        >;
      };
      assert.equal(doc.openapi, "3.1.0");
      assert.ok(
        "k" in
          (doc.paths["/v1/recall"].post?.requestBody.content["application/json"].schema.properties ?? {}),
      );
      const ch = (await svc.app.inject({ url: "/v1/channels" })).json() as { channels: { name: string }[] };
      assert.equal(ch.channels.length, 6);
    });

    test("hot reload swaps the state; answers stay the same", async () => {
      const before = await post(svc, "/v1/recall", { user: "u7", k: 20 });
      const r = await svc.app.inject({ method: "POST", url: "/admin/reload" });
      assert.equal(r.statusCode, 200, r.body);
      const v = (r.json() as { version: number }).version;
      const after = await post(svc, "/v1/recall", { user: "u7", k: 20 });
      assert.equal(after.json.stateVersion, v);
      assert.equal(after.json.stateVersion, before.json.stateVersion + 1);
      assert.deepEqual(after.json.items, before.json.items);
    });
  });
}
