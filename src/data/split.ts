/**
 * Train/test splits (DESIGN §5): per-user random (by distinct item) with a seed, and
 * leave-last-out by time. The fixed Gowalla split comes from `loadLightGcn`.
 */
import { assert } from "../errors.ts";
import { Rng } from "../math/rng.ts";
import type { Dataset, Interactions } from "../types.ts";
import { filterRows, orderByUserTime, userCount } from "./interactions.ts";

export interface Split {
  readonly train: Interactions;
  readonly test: Interactions;
}

export interface RandomSplitOptions {
  /** Share of each user's distinct items that go to train (default 0.8). */
  readonly ratio?: number;
  /** Seed of the `Rng` (default 42). */
  readonly seed?: number;
}

/**
 * Per-user random split by distinct item: all rows of one (user, item) go to the same side, so a
 * test item is never also a (masked) train item. A user with g ≥ 2 distinct items puts
 * max(1, round((1 − ratio)·g)) of them in test; a user with one item stays in train. Rows keep
 * their original order on both sides. Same log + seed → same split.
 */
export function splitRandom(log: Interactions, opts: RandomSplitOptions = {}): Split {
  const ratio = opts.ratio ?? 0.8;
  assert(ratio > 0 && ratio <= 1, () => `splitRandom: ratio must be in (0, 1], got ${ratio}`);
  const rng = new Rng(opts.seed ?? 42);
  const nUsers = userCount(log);
  const { order, offsets } = orderByUserTime({ ...log, ts: null }, nUsers);
  const items = log.items;
  const test = new Uint8Array(log.length);
  let starts = new Int32Array(64);
  for (let u = 0; u < nUsers; u++) {
    const a = offsets[u];
    const b = offsets[u + 1];
    if (b - a < 2) continue;
    const seg = order.subarray(a, b);
    seg.sort((x, y) => items[x] - items[y] || x - y);
    // Group starts: one per distinct item.
    if (starts.length < b - a + 1) starts = new Int32Array((b - a + 1) * 2);
    let g = 0;
    for (let k = 0; k < seg.length; k++) if (k === 0 || items[seg[k]] !== items[seg[k - 1]]) starts[g++] = k;
    if (g < 2 || ratio === 1) continue;
    const nTest = Math.max(1, Math.round((1 - ratio) * g));
    // Partial Fisher–Yates over group indices: the first nTest picks go to test.
    const groups = new Int32Array(g);
    for (let k = 0; k < g; k++) groups[k] = k;
    for (let k = 0; k < nTest; k++) {
      const j = k + rng.int(g - k);
      const t = groups[k];
      groups[k] = groups[j];
      groups[j] = t;
      const gi = groups[k];
      const end = gi + 1 < g ? starts[gi + 1] : seg.length;
      for (let p = starts[gi]; p < end; p++) test[seg[p]] = 1;
    }
  }
  return sides(log, test);
}

export interface LeaveLastOutOptions {
  /** How many of each user's latest rows go to test (default 1). */
  readonly n?: number;
}

/**
 * Leave-last-out by time: each user's `n` latest rows (ts; file order without ts, and for ties)
 * go to test; users with ≤ n rows stay entirely in train.
 */
export function splitLeaveLastOut(log: Interactions, opts: LeaveLastOutOptions = {}): Split {
  const n = opts.n ?? 1;
  assert(Number.isInteger(n) && n >= 1, () => `splitLeaveLastOut: n must be an integer ≥ 1, got ${n}`);
  const nUsers = userCount(log);
  const { order, offsets } = orderByUserTime(log, nUsers);
  const test = new Uint8Array(log.length);
  for (let u = 0; u < nUsers; u++) {
    const a = offsets[u];
    const b = offsets[u + 1];
    if (b - a <= n) continue;
    for (let k = b - n; k < b; k++) test[order[k]] = 1;
  }
  return sides(log, test);
}

function sides(log: Interactions, test: Uint8Array): Split {
  const train = new Uint8Array(log.length);
  for (let e = 0; e < log.length; e++) train[e] = test[e] ^ 1;
  return { train: filterRows(log, train), test: filterRows(log, test) };
}

/** The dataset with train/test replaced by a split (id maps and side information unchanged). */
export function withSplit(ds: Dataset, split: Split): Dataset {
  return { ...ds, train: split.train, test: split.test };
}
