import { userItemCsr } from "../data/matrix.ts";
import { assert } from "../errors.ts";
import type { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";
import { keepProbabilities } from "./subsample.ts";
import type { PairBatch, PositiveInfo, PositiveSource } from "./types.ts";

export interface UserItemOptions {
  /** α of the popular-positive down-sampling (5-21); 0 (default) keeps every pair. */
  readonly subsample?: number;
}

/**
 * U2I positives (spec §5.2.1): a user and an item it interacted with. Each distinct (user, item)
 * of the training log is one pair per epoch, visited in a fresh seeded order every epoch.
 */
class UserItem implements PositiveSource {
  readonly name: string;
  epochSize = 0;
  private users = new Int32Array(0);
  private items = new Int32Array(0);
  private order = new Int32Array(0);
  private keep: Float64Array | null = null;
  private cursor = 0;

  constructor(private readonly o: UserItemOptions) {
    const a = o.subsample ?? 0;
    assert(a >= 0, () => `positives.userItem: subsample must be ≥ 0, got ${a}`);
    this.name = a > 0 ? `userItem(subsample=${a})` : "userItem";
  }

  prepare(data: Dataset): PositiveInfo {
    const nUsers = data.users.size;
    const nItems = data.items.size;
    const m = userItemCsr(data.train, nUsers, nItems);
    const nnz = m.indices.length;
    this.users = new Int32Array(nnz);
    this.items = m.indices.slice();
    for (let u = 0; u < nUsers; u++) this.users.fill(u, m.offsets[u], m.offsets[u + 1]);
    this.order = Int32Array.from({ length: nnz }, (_, e) => e);
    const counts = new Float64Array(nItems);
    for (let e = 0; e < nnz; e++) counts[this.items[e]]++;
    const a = this.o.subsample ?? 0;
    this.keep = a > 0 ? keepProbabilities(counts, a) : null;
    if (this.keep !== null) for (let i = 0; i < nItems; i++) counts[i] *= this.keep[i];
    let size = 0;
    for (let i = 0; i < nItems; i++) size += counts[i];
    this.epochSize = Math.round(size);
    return {
      nQueries: nUsers,
      nTargets: nItems,
      targetCounts: counts,
      querySpace: "users",
      queryBags: null,
      targetBags: null,
    };
  }

  startEpoch(rng: Rng): void {
    rng.shuffle(this.order);
    this.cursor = 0;
  }

  nextInto(rng: Rng, out: PairBatch, max: number): number {
    const order = this.order;
    const keep = this.keep;
    let n = 0;
    while (n < max && this.cursor < order.length) {
      const e = order[this.cursor++];
      const t = this.items[e];
      if (keep !== null && keep[t] < 1 && rng.next() >= keep[t]) continue;
      out.q[n] = this.users[e];
      out.t[n] = t;
      n++;
    }
    return n;
  }
}

/** @example positives.userItem() // every (user, clicked item) pair */
export function userItem(o: UserItemOptions = {}): PositiveSource {
  return new UserItem(o);
}
