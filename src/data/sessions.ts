/** Sessions cut from (user, ts) by an inactivity gap (DESIGN §3: default 30 min). */
import { assert } from "../errors.ts";
import type { Interactions } from "../types.ts";
import { orderByUserTime, selectRows, userCount } from "./interactions.ts";

export interface SessionizeOptions {
  /** A gap longer than this (seconds) between consecutive events of a user starts a new session (default 1800). */
  readonly gapSec?: number;
}

/**
 * Cuts sessions per user by inactivity. Returns a new log sorted by (user, ts) — ties keep file
 * order — whose `sessions` are dense, numbered in that order, so each session is a contiguous
 * run of rows. Any existing `sessions` column is replaced. Needs `ts`.
 * @example const withSessions = sessionize(ds.train, { gapSec: 1800 });
 */
export function sessionize(log: Interactions, opts: SessionizeOptions = {}): Interactions {
  const gap = opts.gapSec ?? 1800;
  assert(gap >= 0, () => `sessionize: gapSec must be ≥ 0, got ${gap}`);
  const ts = log.ts;
  assert(ts !== null, () => "sessionize: the log has no timestamps (ts); give a ts column or session ids");
  const { order } = orderByUserTime(log, userCount(log));
  const out = selectRows(log, order);
  const sessions = new Int32Array(out.length);
  let s = -1;
  const t = out.ts as Float64Array;
  for (let k = 0; k < out.length; k++) {
    if (k === 0 || out.users[k] !== out.users[k - 1] || t[k] - t[k - 1] > gap) s++;
    sessions[k] = s;
  }
  return { ...out, sessions };
}

/** Number of distinct sessions (max index + 1), 0 when the log has none. */
export function sessionCount(log: Interactions): number {
  if (log.sessions === null) return 0;
  let m = -1;
  for (let e = 0; e < log.length; e++) if (log.sessions[e] > m) m = log.sessions[e];
  return m + 1;
}
