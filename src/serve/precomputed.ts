/**
 * Precomputed recall lists: a U2I channel's top-k for every known user, computed offline in
 * batches (worker threads) and served by lookup — microseconds instead of scoring per request.
 * Stored as a CSR artifact (`offsets`, `ids`, `scores`); unknown users fall through to the live
 * channel (recent items, cold start). With `store: redis` the lists are also published to Redis
 * (once per content version) and read from there, so replicas share them.
 */
import { createHash } from "node:crypto";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import type { Csr } from "../math/csr.ts";
import type { Recommender } from "../recommender.ts";
import type { Channel, ChannelHits } from "./channel.ts";
import type { SharedLists } from "./store.ts";

export const PRECOMPUTED_ARTIFACT_TYPE = "serve-precomputed";

export interface RecallLists {
  readonly channel: string;
  readonly k: number;
  /** user → offsets into ids/scores (nUsers + 1). */
  readonly offsets: Int32Array;
  readonly ids: Int32Array;
  readonly scores: Float32Array;
}

/** Top-k for every user through `model.recommend`, seen items masked, in batches. */
export async function precomputeLists(
  channel: string,
  model: Recommender,
  nUsers: number,
  k: number,
  seen: Csr,
  batch = 4096,
): Promise<RecallLists> {
  const offsets = new Int32Array(nUsers + 1);
  const ids: Int32Array[] = [];
  const scores: Float32Array[] = [];
  for (let s = 0; s < nUsers; s += batch) {
    const users = Int32Array.from({ length: Math.min(batch, nUsers - s) }, (_, i) => s + i);
    const top = await model.recommend(users, k, { exclude: seen });
    for (let r = 0; r < users.length; r++) {
      const row = top.row(r);
      ids.push(row.ids.slice());
      scores.push(row.scores.slice());
      offsets[s + r + 1] = offsets[s + r] + row.ids.length;
    }
  }
  const cat = <T extends Int32Array | Float32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(offsets[nUsers]);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return {
    channel,
    k,
    offsets,
    ids: cat(ids, (n) => new Int32Array(n)),
    scores: cat(scores, (n) => new Float32Array(n)),
  };
}

export async function saveLists(dir: string, l: RecallLists, model: string): Promise<void> {
  await writeArtifact(
    dir,
    {
      type: PRECOMPUTED_ARTIFACT_TYPE,
      params: { channel: l.channel, model, k: l.k },
      meta: { nUsers: l.offsets.length - 1 },
    },
    {
      "offsets.npy": { npy: l.offsets, shape: [l.offsets.length] },
      "ids.npy": { npy: l.ids, shape: [l.ids.length] },
      "scores.npy": { npy: l.scores, shape: [l.scores.length] },
    },
  );
}

export async function loadLists(dir: string): Promise<RecallLists> {
  const a = await readArtifact(dir, PRECOMPUTED_ARTIFACT_TYPE);
  const p = a.manifest.params as { channel: string; k: number };
  return {
    channel: p.channel,
    k: p.k,
    offsets: (await a.npy("offsets.npy")).data as Int32Array,
    ids: (await a.npy("ids.npy")).data as Int32Array,
    scores: (await a.npy("scores.npy")).data as Float32Array,
  };
}

/**
 * Content version of a channel's lists (SHA-256 of the lists and the item ids they index, 16 hex
 * digits): every replica that loads the same artifact gets the same version, so they share one
 * copy in Redis, and a retrained artifact never reads a stale one.
 */
export function listsVersion(l: RecallLists, itemIds: readonly string[]): string {
  const h = createHash("sha256");
  for (const a of [l.offsets, l.ids, l.scores])
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  h.update(itemIds.join("\n"));
  return h.digest("hex").slice(0, 16);
}

/** Lists shared through the online store (Redis), read per request; the in-process copy backs them. */
export interface SharedSource {
  readonly store: SharedLists;
  readonly version: string;
  /** Dense user index → external id (the Redis key). */
  readonly userId: (user: number) => string;
}

/**
 * Known users read their list (from the shared store when given — a missing key or, with fallback
 * "embedded", an unreachable Redis reads the in-process copy); everyone else goes to the live channel.
 */
export function precomputedChannel(live: Channel, lists: RecallLists, shared?: SharedSource): Channel {
  const nUsers = lists.offsets.length - 1;
  const local = (user: number, k: number): ChannelHits => {
    const a = lists.offsets[user];
    const b = Math.min(lists.offsets[user + 1], a + k);
    return { ids: lists.ids.subarray(a, b), scores: lists.scores.subarray(a, b) };
  };
  return {
    name: live.name,
    quota: live.quota,
    timeoutMs: live.timeoutMs,
    when: live.when,
    describe: `${live.describe}; known users from precomputed top-${lists.k} lists${shared === undefined ? "" : ` (shared in Redis, version ${shared.version})`}`,
    run(q): ChannelHits | null | Promise<ChannelHits | null> {
      if (q.user < 0 || q.user >= nUsers) return live.run(q);
      if (shared === undefined) return local(q.user, q.k);
      return shared.store
        .read(live.name, shared.version, shared.userId(q.user), q.k)
        .then((r) => r ?? local(q.user, q.k));
    },
  };
}
