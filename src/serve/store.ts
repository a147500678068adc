/**
 * Online state: each user's recent interactions that arrived after training (POST /v1/events).
 * The embedded store keeps them in process; the Redis store keeps them in Redis lists so several
 * replicas share them (DESIGN §9: keys hash-tagged `{user}` so a Redis Cluster keeps one user's
 * keys in one slot). When Redis fails, the Redis store either degrades to an in-process fallback
 * (reads and writes go there until Redis answers again) or throws RK_SERVE_STORE_UNAVAILABLE, which
 * the HTTP layer turns into a 503. It never takes the process down.
 */
import { Redis } from "ioredis";
import { RecallkitError } from "../errors.ts";
import type { RedisStoreConfig } from "./config.ts";
import { storeUnavailable } from "./errors.ts";

export interface StoreHealth {
  readonly ok: boolean;
  /** "embedded", "redis", or "redis (degraded: ...)" */
  readonly detail: string;
  readonly degraded: boolean;
}

/** One user's precomputed list, best first (dense item indices). */
export interface SharedList {
  readonly ids: Int32Array;
  readonly scores: Float32Array;
}

/**
 * Precomputed recall lists shared by replicas (Redis). Lists are keyed by channel, a content
 * `version` (the same artifact gives the same version on every replica) and the external user
 * id. A missing key is `null`: the caller serves its in-process copy.
 */
export interface SharedLists {
  /** Writes every user's list unless this version is already there; returns whether it wrote. */
  publish(
    channel: string,
    version: string,
    users: readonly string[],
    lists: PublishedLists,
  ): Promise<boolean>;
  /** A user's list (at most k items), or null when Redis has none. */
  read(channel: string, version: string, user: string, k: number): Promise<SharedList | null>;
  /**
   * Deletes the channel's versions other than `keep` that no replica has published or claimed
   * for `olderThanMs` (every load claims its version); returns the versions deleted.
   */
  retire(channel: string, keep: string, olderThanMs: number): Promise<string[]>;
}

export interface PublishedLists {
  /** user → offsets into ids/scores (users.length + 1). */
  readonly offsets: Int32Array;
  readonly ids: Int32Array;
  readonly scores: Float32Array;
}

export interface OnlineStore {
  readonly kind: "embedded" | "redis";
  /** Precomputed lists shared through the store (Redis); absent for the embedded store. */
  readonly sharedLists?: SharedLists;
  /** A user's online items, most recent last, at most n. */
  recent(user: string, n: number): Promise<string[]>;
  /** Appends items (oldest first), keeping the last `keep`; returns the history length. */
  push(user: string, items: readonly string[], keep: number): Promise<number>;
  health(): StoreHealth;
  close(): Promise<void>;
}

/** In-process store: a Map of bounded lists, least recently written user evicted past `maxUsers`. */
export class EmbeddedStore implements OnlineStore {
  readonly kind = "embedded";
  private readonly lists = new Map<string, string[]>();
  constructor(private readonly maxUsers = 1_000_000) {}

  async recent(user: string, n: number): Promise<string[]> {
    const l = this.lists.get(user);
    return l === undefined ? [] : l.slice(Math.max(0, l.length - n));
  }

  async push(user: string, items: readonly string[], keep: number): Promise<number> {
    const l = this.lists.get(user) ?? [];
    this.lists.delete(user); // re-insert: Map order is write recency
    l.push(...items);
    if (l.length > keep) l.splice(0, l.length - keep);
    this.lists.set(user, l);
    if (this.lists.size > this.maxUsers) this.lists.delete(this.lists.keys().next().value as string);
    return l.length;
  }

  health(): StoreHealth {
    return { ok: true, detail: "embedded", degraded: false };
  }

  async close(): Promise<void> {}
}

const RETRY_MS = 1000;

/** A literal string inside a Redis MATCH pattern. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * Redis lists `<prefix>{<user>}:recent` (RPUSH + LTRIM, LRANGE), via ioredis; precomputed recall
 * lists as strings `<prefix>{<user>}:pre:<channel>:<version>` (int32 ids then float32 scores,
 * host byte order — little-endian on every supported platform) with `<prefix>pre:<channel>:<version>:ready` set once every user is written.
 * `<prefix>pre:<channel>:versions` (a sorted set) holds each version with the last time a replica
 * loaded it; `retire` deletes the versions nobody has loaded for a while (SCAN + UNLINK).
 */
export class RedisStore implements OnlineStore {
  readonly kind = "redis";
  readonly client: Redis;
  private readonly fallback: EmbeddedStore | null;
  private lastError: string | null = null;
  private failedAt = 0;

  private constructor(private readonly cfg: RedisStoreConfig) {
    this.client = new Redis(cfg.url, {
      // Fail fast instead of queueing: a request must not wait for a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: cfg.commandTimeoutMs,
      connectTimeout: Math.max(1000, cfg.commandTimeoutMs),
      lazyConnect: true,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    // Without a listener ioredis reports errors as unhandled 'error' events.
    this.client.on("error", (err: Error) => {
      this.lastError = err.message;
    });
    this.client.on("ready", () => {
      this.lastError = null;
      this.failedAt = 0;
    });
    this.fallback = cfg.fallback === "embedded" ? new EmbeddedStore() : null;
  }

  /** Connects (failing startup with a clear error when Redis cannot be reached). */
  static async connect(cfg: RedisStoreConfig): Promise<RedisStore> {
    const s = new RedisStore(cfg);
    try {
      await s.client.connect();
      await s.client.ping();
    } catch (err) {
      s.client.disconnect();
      throw new RecallkitError(
        "RK_ERR_CONFIG",
        `cannot reach Redis at ${cfg.url} (${(err as Error).message}); start redis-server or set store: embedded`,
      );
    }
    return s;
  }

  private key(user: string): string {
    return `${this.cfg.prefix}{${user}}:recent`;
  }

  /**
   * A small circuit breaker: after a failed command Redis is not asked again for `RETRY_MS`
   * (requests go straight to the fallback or get a 503 instead of waiting for a timeout each),
   * then one request tries it again.
   */
  private up(): boolean {
    return this.client.status === "ready" && (this.failedAt === 0 || Date.now() - this.failedAt > RETRY_MS);
  }

  private async orFallback<T>(op: () => Promise<T>, fb: (s: EmbeddedStore) => Promise<T>): Promise<T> {
    if (this.up()) {
      try {
        const r = await op();
        this.failedAt = 0;
        return r;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.failedAt = Date.now();
      }
    }
    if (this.fallback === null) throw storeUnavailable(`Redis: ${this.lastError ?? this.client.status}`);
    return fb(this.fallback);
  }

  recent(user: string, n: number): Promise<string[]> {
    return this.orFallback(
      () => this.client.lrange(this.key(user), -n, -1),
      (s) => s.recent(user, n),
    );
  }

  push(user: string, items: readonly string[], keep: number): Promise<number> {
    return this.orFallback(
      async () => {
        const k = this.key(user);
        const r = await this.client
          .multi()
          .rpush(k, ...items)
          .ltrim(k, -keep, -1)
          .exec();
        const err = r?.find(([e]) => e !== null)?.[0];
        if (err) throw err;
        return Math.min(keep, Number(r?.[0]?.[1] ?? 0));
      },
      (s) => s.push(user, items, keep),
    );
  }

  readonly sharedLists: SharedLists = {
    publish: (channel, version, users, l) => this.publishLists(channel, version, users, l),
    retire: (channel, keep, olderThanMs) => this.retireLists(channel, keep, olderThanMs),
    read: (channel, version, user, k) =>
      this.orFallback(
        async () => {
          const b = await this.client.getBuffer(this.listKey(channel, version, user));
          if (b === null) return null;
          const n = Math.min(k, b.length >> 3);
          const all = b.length >> 3;
          // Copy out of the (possibly unaligned) Buffer into aligned typed arrays.
          const ids = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + 4 * n));
          const scores = new Float32Array(
            b.buffer.slice(b.byteOffset + 4 * all, b.byteOffset + 4 * (all + n)),
          );
          return { ids, scores };
        },
        async () => null,
      ),
  };

  private listKey(channel: string, version: string, user: string): string {
    return `${this.cfg.prefix}{${user}}:pre:${channel}:${version}`;
  }

  private async publishLists(
    channel: string,
    version: string,
    users: readonly string[],
    l: PublishedLists,
  ): Promise<boolean> {
    const ready = `${this.cfg.prefix}pre:${channel}:${version}:ready`;
    // Claim the version first, so a concurrent retire on another replica never deletes it.
    await this.client.zadd(this.versionsKey(channel), Date.now(), version);
    if ((await this.client.exists(ready)) === 1) return false;
    // Small pipelines: each stays well inside commandTimeoutMs.
    const CHUNK = 256;
    const idBytes = new Uint8Array(l.ids.buffer, l.ids.byteOffset, l.ids.byteLength);
    const scoreBytes = new Uint8Array(l.scores.buffer, l.scores.byteOffset, l.scores.byteLength);
    for (let s = 0; s < users.length; s += CHUNK) {
      const p = this.client.pipeline();
      for (let u = s; u < Math.min(users.length, s + CHUNK); u++) {
        const a = l.offsets[u];
        const b = l.offsets[u + 1];
        const buf = Buffer.allocUnsafe(8 * (b - a));
        buf.set(idBytes.subarray(4 * a, 4 * b), 0);
        buf.set(scoreBytes.subarray(4 * a, 4 * b), 4 * (b - a));
        p.set(this.listKey(channel, version, users[u]), buf);
      }
      const r = await p.exec();
      const err = r?.find(([e]) => e !== null)?.[0];
      if (err) throw err;
    }
    await this.client.set(ready, String(users.length));
    return true;
  }

  private versionsKey(channel: string): string {
    return `${this.cfg.prefix}pre:${channel}:versions`;
  }

  private async retireLists(channel: string, keep: string, olderThanMs: number): Promise<string[]> {
    const reg = this.versionsKey(channel);
    const old = (await this.client.zrangebyscore(reg, "-inf", `(${Date.now() - olderThanMs}`)).filter(
      (v) => v !== keep,
    );
    for (const version of old) {
      // The ready flag and the registry entry go first: no replica publishes into, or trusts, a
      // half-deleted version (a replica that loads it again re-publishes it whole).
      await this.client.unlink(`${this.cfg.prefix}pre:${channel}:${version}:ready`);
      await this.client.zrem(reg, version);
      const match = `${globEscape(this.cfg.prefix)}{*}:pre:${globEscape(channel)}:${globEscape(version)}`;
      let cursor = "0";
      do {
        const [next, keys] = await this.client.scan(cursor, "MATCH", match, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await this.client.unlink(...keys);
      } while (cursor !== "0");
    }
    return old;
  }

  health(): StoreHealth {
    if (this.up()) return { ok: true, detail: "redis", degraded: false };
    const why = this.lastError ?? this.client.status;
    return this.fallback === null
      ? { ok: false, detail: `redis unavailable: ${why}`, degraded: true }
      : { ok: true, detail: `redis (degraded to in-process fallback: ${why})`, degraded: true };
  }

  async close(): Promise<void> {
    try {
      if (this.up()) await this.client.quit();
      else this.client.disconnect();
    } catch {
      this.client.disconnect();
    }
  }
}
