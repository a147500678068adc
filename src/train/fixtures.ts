/**
 * Fixture generators `(seed, size)` for trainer and model tests (STYLE §2.5): planted clusters,
 * where users of cluster c interact mostly with items of cluster c. Only tests import this file.
 */
import { IdMap } from "../data/id-map.ts";
import { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";

export interface Planted {
  readonly data: Dataset;
  readonly userCluster: Int32Array;
  readonly itemCluster: Int32Array;
}

/** nUsers users and nItems items in k clusters; each user has `perUser` distinct in-cluster items and one random item. */
export function plantedClusters(seed: number, nUsers = 200, nItems = 100, k = 5, perUser = 8): Planted {
  const rng = new Rng(seed);
  const userCluster = new Int32Array(nUsers);
  const itemCluster = Int32Array.from({ length: nItems }, (_, i) => i % k);
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const c = u % k;
    userCluster[u] = c;
    const pool = Array.from({ length: nItems / k }, (_, j) => j * k + c);
    rng.shuffle(pool as unknown as Int32Array);
    for (let j = 0; j < perUser; j++) {
      users.push(u);
      items.push(pool[j]);
    }
    users.push(u);
    items.push(rng.int(nItems));
  }
  const data: Dataset = {
    name: `planted-${seed}`,
    users: IdMap.from(Array.from({ length: nUsers }, (_, i) => `u${i}`)),
    items: IdMap.from(Array.from({ length: nItems }, (_, i) => `i${i}`)),
    train: {
      length: users.length,
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      weights: null,
      ts: null,
      events: null,
      eventNames: [],
      sessions: null,
    },
    test: null,
    itemAttributes: new Map(),
    userAttributes: new Map(),
    itemStats: null,
  };
  return { data, userCluster, itemCluster };
}
