import { userItemCsr } from "../data/matrix.ts";
import { assert } from "../errors.ts";
import { buildCsr, type Csr } from "../math/csr.ts";
import { Rng } from "../math/rng.ts";
import type { Dataset } from "../types.ts";
import type { PairBatch, PositiveInfo, PositiveSource } from "./types.ts";

export interface UserSplitOptions {
  /** Share of a user's items in the first half. Default 0.5. */
  readonly fraction?: number;
  /** Seed of the (fixed) random split. Default 1. */
  readonly seed?: number;
}

/**
 * U2U positives (spec §5.2.1, Siamese "同一性"): one half of a user's history should be close to
 * the other half. Entity 2u is user u's first half and 2u + 1 the second; both halves are item
 * bags (`queryBags` = `targetBags`) for a feature encoder such as `encoders.featureSum({ mode:
 * "mean" })`. Users with fewer than two items give no pair. Negatives are then other users' halves.
 */
class UserSplit implements PositiveSource {
  readonly name = "userSplit";
  epochSize = 0;
  private order = new Int32Array(0);
  private cursor = 0;

  constructor(private readonly o: UserSplitOptions) {
    const f = o.fraction ?? 0.5;
    assert(f > 0 && f < 1, () => `positives.userSplit: fraction must be in (0, 1), got ${f}`);
  }

  prepare(data: Dataset): PositiveInfo {
    const nUsers = data.users.size;
    const m = userItemCsr(data.train, nUsers, data.items.size);
    const rng = new Rng(this.o.seed ?? 1);
    const f = this.o.fraction ?? 0.5;
    const rows: number[] = [];
    const cols: number[] = [];
    const users: number[] = [];
    for (let u = 0; u < nUsers; u++) {
      const a = m.offsets[u];
      const len = m.offsets[u + 1] - a;
      if (len < 2) continue;
      const perm = rng.shuffle(Int32Array.from({ length: len }, (_, j) => a + j));
      const cut = Math.min(len - 1, Math.max(1, Math.round(len * f)));
      for (let j = 0; j < len; j++) {
        rows.push(j < cut ? 2 * u : 2 * u + 1);
        cols.push(m.indices[perm[j]]);
      }
      users.push(u);
    }
    const bags: Csr = buildCsr(
      2 * nUsers,
      data.items.size,
      Int32Array.from(rows),
      Int32Array.from(cols),
      null,
      "one",
    );
    this.order = Int32Array.from(users);
    this.epochSize = users.length;
    const counts = new Float64Array(2 * nUsers);
    for (const u of users) counts[2 * u + 1] = 1;
    return {
      nQueries: 2 * nUsers,
      nTargets: 2 * nUsers,
      targetCounts: counts,
      querySpace: "custom",
      queryBags: bags,
      targetBags: bags,
    };
  }

  startEpoch(rng: Rng): void {
    rng.shuffle(this.order);
    this.cursor = 0;
  }

  nextInto(_rng: Rng, out: PairBatch, max: number): number {
    let n = 0;
    while (n < max && this.cursor < this.order.length) {
      const u = this.order[this.cursor++];
      out.q[n] = 2 * u;
      out.t[n] = 2 * u + 1;
      n++;
    }
    return n;
  }
}

/** @example positives.userSplit({ fraction: 0.5 }) */
export function userSplit(o: UserSplitOptions = {}): PositiveSource {
  return new UserSplit(o);
}
