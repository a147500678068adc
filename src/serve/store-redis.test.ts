/**
 * Redis mode: the same API suite as embedded mode against a real redis-server, and Redis killed
 * mid-run (fallback to the in-process store, or a clear 503 with fallback "fail").
 * RECALLKIT_REDIS_URL points at a running server (.ci/run starts one); otherwise a private
 * redis-server is started when the binary exists, and the tests skip with the reason when not.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Recommender } from "../recommender.ts";
import { createModel } from "../registry.ts";
import { runApiSuite, serveFixture } from "./api.case.test.ts";
import type { RecallResponse } from "./api.ts";
import { createService, type RedisStore, type Service } from "./index.ts";

const BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";
const hasBinary = spawnSync(BIN, ["--version"]).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server on a loopback port, no persistence. */
async function startRedis(port?: number): Promise<{ url: string; port: number; proc: ChildProcess }> {
  const p = port ?? (await freePort());
  const proc = spawn(BIN, ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("redis-server did not start in 5 s")), 5000);
    proc.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}`));
    });
  });
  return { url: `redis://127.0.0.1:${p}`, port: p, proc };
}

function stopRedis(proc: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill(signal);
  });
}

const envUrl = process.env.RECALLKIT_REDIS_URL || undefined; // empty counts as unset
const skip = envUrl === undefined && !hasBinary ? `no RECALLKIT_REDIS_URL and no ${BIN} binary` : false;
if (skip) console.log(`# skipping Redis tests: ${skip} (apt-get install -y redis-server)`);

describe("Redis store", { skip }, () => {
  let url = envUrl ?? "";
  let own: ChildProcess | null = null;
  const run = `t${process.pid}-${Date.now()}`;
  before(async () => {
    if (envUrl === undefined) {
      const r = await startRedis();
      url = r.url;
      own = r.proc;
    }
  });
  after(async () => {
    if (own !== null) await stopRedis(own, "SIGTERM");
  });

  runApiSuite(
    "redis store",
    async () => {
      const fx = await serveFixture();
      return createService(
        { ...fx.config, store: { type: "redis", url, prefix: `rk-test:${run}:` } },
        { dataset: fx.ds, models: fx.models, defaultMetrics: false },
      );
    },
    `${run}-`,
  );

  test("two replicas share recent histories through Redis", async () => {
    const fx = await serveFixture();
    const make = () =>
      createService(
        { ...fx.config, store: { type: "redis", url, prefix: `rk-test:${run}:shared:` } },
        { dataset: fx.ds, models: fx.models, defaultMetrics: false },
      );
    const [a, b] = [await make(), await make()];
    try {
      const ev = await a.app.inject({
        method: "POST",
        url: "/v1/events",
        payload: { user: "new-user", items: ["i5", "i6"] },
      });
      assert.equal(ev.statusCode, 200);
      const r = await b.app.inject({
        method: "POST",
        url: "/v1/recall",
        payload: { user: "new-user", k: 10 },
      });
      assert.deepEqual((r.json() as RecallResponse).context.recentItems, ["i5", "i6"]);
    } finally {
      await a.close();
      await b.close();
    }
  });
  test("precomputed lists live in Redis: replicas share one copy; a missing key reads the in-process copy", async () => {
    const fx = await serveFixture();
    const channels = { "u2i/itemcf": { model: "itemcf", k: 30, precompute: true, timeoutMs: 10_000 } };
    const prefix = `rk-test:${run}:pre:`;
    const make = (store: "embedded" | "redis") =>
      createService(
        { ...fx.config, channels, store: store === "redis" ? { type: "redis", url, prefix } : "embedded" },
        { dataset: fx.ds, models: fx.models, defaultMetrics: false },
      );
    const [local, a, b] = [await make("embedded"), await make("redis"), await make("redis")];
    const ask = async (svc: Service, body: object) =>
      (
        (await svc.app.inject({ method: "POST", url: "/v1/recall", payload: body })).json() as RecallResponse
      ).items.map((i) => i.item);
    try {
      const [pa] = a.service.state.sharedLists;
      const [pb] = b.service.state.sharedLists;
      assert.equal(pa.published, true, "the first replica writes the lists");
      assert.equal(pb.published, false, "the second finds them there");
      assert.equal(pb.version, pa.version);
      assert.match(b.service.channels()[0].describe, /shared in Redis, version [0-9a-f]{16}/);
      const client = (a.service.store as RedisStore).client;
      const key = `${prefix}{u1}:pre:u2i/itemcf:${pa.version}`;
      assert.equal(await client.exists(key), 1);
      for (const user of ["u1", "u7", "cold-user"])
        assert.deepEqual(await ask(b, { user, k: 30 }), await ask(local, { user, k: 30 }), user);
      // What b serves for u1 is what Redis holds: overwrite u1's list there.
      const cat = a.service.state.catalogue;
      const buf = Buffer.alloc(24);
      [3, 4, 5].forEach((id, j) => {
        buf.writeInt32LE(id, 4 * j);
        buf.writeFloatLE(1 - j / 10, 12 + 4 * j);
      });
      await client.set(key, buf);
      const body = { user: "u1", k: 3, filters: { excludeSeen: false } };
      assert.deepEqual(
        await ask(b, body),
        [3, 4, 5].map((i) => cat.items.id(i)),
      );
      await client.del(key);
      assert.deepEqual(await ask(b, body), await ask(local, body), "missing key: in-process copy");
      // A reload of the same artifacts reuses the published version.
      await b.reload();
      assert.equal(b.service.state.sharedLists[0].published, false);
    } finally {
      await local.close();
      await a.close();
      await b.close();
    }
  });
  test("old precomputed-list versions are deleted once no replica has loaded them for keepOldListsMs", async () => {
    const fx = await serveFixture();
    const channels = { "u2i/itemcf": { model: "itemcf", k: 30, precompute: true, timeoutMs: 10_000 } };
    const prefix = `rk-test:${run}:gc:`;
    // Two trainings of the same channel: different neighbour counts, different lists, versions.
    const other = await createModel("itemcf", { workers: 0, neighbors: 5 }).fit(fx.ds);
    const make = (model: Recommender, keepOldListsMs: number) =>
      createService(
        { ...fx.config, channels, store: { type: "redis", url, prefix, keepOldListsMs } },
        { dataset: fx.ds, models: { ...fx.models, itemcf: model }, defaultMetrics: false },
      );
    const local = await createService(
      { ...fx.config, channels },
      { dataset: fx.ds, models: fx.models, defaultMetrics: false },
    );
    const a = await make(fx.models.itemcf, 0);
    const b = await make(other, 3_600_000);
    const client = (a.service.store as RedisStore).client;
    const count = async (version: string) => {
      let n = 0;
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(
          cursor,
          "MATCH",
          `${prefix}{*}:pre:u2i/itemcf:${version}`,
          "COUNT",
          500,
        );
        cursor = next;
        n += keys.length;
      } while (cursor !== "0");
      return n;
    };
    const ask = async (svc: Service, user: string) =>
      (
        (
          await svc.app.inject({ method: "POST", url: "/v1/recall", payload: { user, k: 30 } })
        ).json() as RecallResponse
      ).items.map((i) => i.item);
    try {
      const va = a.service.state.sharedLists[0].version;
      const vb = b.service.state.sharedLists[0].version;
      assert.notEqual(va, vb);
      const nUsers = fx.ds.users.size;
      assert.equal(await count(va), nUsers);
      assert.equal(await count(vb), nUsers);
      // b keeps versions loaded within the hour: a's version stays.
      assert.deepEqual(await b.service.retireOldLists(), { "u2i/itemcf": [] });
      assert.equal(await count(va), nUsers);
      // a reloads (claiming va again) and keeps nothing older than now: vb goes, va stays whole.
      const r = await a.reload();
      assert.deepEqual(r.retiredLists, { "u2i/itemcf": [vb] });
      assert.equal(await count(vb), 0);
      assert.equal(await client.exists(`${prefix}pre:u2i/itemcf:${vb}:ready`), 0);
      assert.equal(await count(va), nUsers);
      assert.deepEqual(await client.zrange(`${prefix}pre:u2i/itemcf:versions`, "0", "-1"), [va]);
      // b, still on the deleted version, answers from its in-process copy (same as a live model).
      const bLocal = await createService(
        { ...fx.config, channels },
        { dataset: fx.ds, models: { ...fx.models, itemcf: other }, defaultMetrics: false },
      );
      try {
        for (const user of ["u1", "u7"]) assert.deepEqual(await ask(b, user), await ask(bLocal, user), user);
      } finally {
        await bLocal.close();
      }
      for (const user of ["u1", "u7"]) assert.deepEqual(await ask(a, user), await ask(local, user), user);
      // b reloads: its version is claimed and published again (it was deleted).
      await b.reload();
      assert.equal(b.service.state.sharedLists[0].published, true);
      assert.equal(await count(vb), nUsers);
    } finally {
      await local.close();
      await a.close();
      await b.close();
    }
  });
});

describe("Redis killed mid-run", { skip: hasBinary ? false : `no ${BIN} binary` }, () => {
  let svc: Service | null = null;
  after(async () => {
    await svc?.close();
  });

  for (const fallback of ["embedded", "fail"] as const)
    test(`fallback ${fallback}: ${fallback === "embedded" ? "degrades to the in-process store" : "answers 503"}, never crashes, recovers`, async () => {
      const fx = await serveFixture();
      const redis = await startRedis();
      svc = await createService(
        {
          ...fx.config,
          channels: { ...fx.config.channels, "u2i/pre": { model: "itemcf", k: 20, precompute: true } },
          store: { type: "redis", url: redis.url, fallback, commandTimeoutMs: 100 },
        },
        { dataset: fx.ds, models: fx.models, defaultMetrics: false },
      );
      const recall = () =>
        svc!.app.inject({ method: "POST", url: "/v1/recall", payload: { user: "x1", k: 10 } });
      const event = () =>
        svc!.app.inject({ method: "POST", url: "/v1/events", payload: { user: "x1", items: ["i7"] } });
      assert.equal((await event()).statusCode, 200);
      assert.equal((await recall()).statusCode, 200);

      await stopRedis(redis.proc);
      // Requests while Redis is gone, including right at the moment it dies.
      const codes = await Promise.all([recall(), event(), recall()].map((p) => p.then((r) => r.statusCode)));
      const ready = await svc.app.inject({ url: "/readyz" });
      if (fallback === "embedded") {
        assert.deepEqual(codes, [200, 200, 200]);
        const r = (await recall()).json() as RecallResponse;
        assert.ok(
          r.warnings.some((w) => /^store: redis \(degraded/.test(w)),
          r.warnings.join("|"),
        );
        assert.equal(ready.statusCode, 200);
        // Precomputed lists come from the in-process copy while Redis is gone.
        const known = (
          await svc.app.inject({ method: "POST", url: "/v1/recall", payload: { user: "u1", k: 10 } })
        ).json() as RecallResponse;
        const pre = known.channels.find((c) => c.name === "u2i/pre");
        assert.equal(pre?.status, "ok", JSON.stringify(known.channels));
        assert.ok((pre?.returned ?? 0) > 0);
      } else {
        assert.deepEqual(codes, [503, 503, 503]);
        const r = await recall();
        assert.equal(r.statusCode, 503);
        assert.match(r.body, /RK_SERVE_STORE_UNAVAILABLE.*online store unavailable: Redis/);
        assert.equal(ready.statusCode, 503, ready.body);
      }
      assert.equal((await svc.app.inject({ url: "/healthz" })).statusCode, 200, "the process is alive");

      // Redis comes back on the same port: the client reconnects and Redis serves again.
      const again = await startRedis(redis.port);
      try {
        const t0 = Date.now();
        let ok = false;
        while (Date.now() - t0 < 5000 && !ok) {
          await new Promise((r) => setTimeout(r, 100));
          ok = svc.service.store.health().detail === "redis";
        }
        assert.ok(ok, `reconnected: ${svc.service.store.health().detail}`);
        assert.equal((await recall()).statusCode, 200);
      } finally {
        await svc.close();
        svc = null;
        await stopRedis(again.proc, "SIGTERM");
      }
    });
});
