/**
 * Building and reshaping columnar `Interactions` (DESIGN §3): a growable builder used by every
 * reader, row gathers for splits, and the (user, time) ordering sessions and leave-last-out need.
 * Everything here works on typed arrays; no object per interaction.
 */

import type { Interactions } from "../types.ts";
import { IdMap } from "./id-map.ts";

/** Which optional columns a builder keeps. */
export interface InteractionColumns {
  readonly weights?: boolean;
  readonly ts?: boolean;
  readonly events?: boolean;
  readonly sessions?: boolean;
}

/**
 * Growable column store: `push` appends one row (unused columns ignore their argument),
 * `build` trims to length. Event names are interned in `eventNames` (shareable across logs).
 */
export class InteractionsBuilder {
  length = 0;
  users: Int32Array;
  items: Int32Array;
  weights: Float32Array | null;
  ts: Float64Array | null;
  events: Int32Array | null;
  sessions: Int32Array | null;
  readonly eventNames: IdMap;

  constructor(cols: InteractionColumns = {}, capacity = 1024, eventNames: IdMap = new IdMap()) {
    const cap = Math.max(16, capacity);
    this.users = new Int32Array(cap);
    this.items = new Int32Array(cap);
    this.weights = cols.weights ? new Float32Array(cap) : null;
    this.ts = cols.ts ? new Float64Array(cap) : null;
    this.events = cols.events ? new Int32Array(cap) : null;
    this.sessions = cols.sessions ? new Int32Array(cap) : null;
    this.eventNames = eventNames;
  }

  /** Appends row (user, item, weight, ts, event index, session index). */
  push(user: number, item: number, weight: number, ts: number, event: number, session: number): void {
    const e = this.length;
    if (e === this.users.length) this.grow();
    this.users[e] = user;
    this.items[e] = item;
    if (this.weights !== null) this.weights[e] = weight;
    if (this.ts !== null) this.ts[e] = ts;
    if (this.events !== null) this.events[e] = event;
    if (this.sessions !== null) this.sessions[e] = session;
    this.length = e + 1;
  }

  /** Event index of `name`, interning it. */
  event(name: string): number {
    return this.eventNames.add(name);
  }

  private grow(): void {
    const cap = this.users.length * 2;
    this.users = growI32(this.users, cap);
    this.items = growI32(this.items, cap);
    if (this.weights !== null) {
      const w = new Float32Array(cap);
      w.set(this.weights);
      this.weights = w;
    }
    if (this.ts !== null) {
      const t = new Float64Array(cap);
      t.set(this.ts);
      this.ts = t;
    }
    if (this.events !== null) this.events = growI32(this.events, cap);
    if (this.sessions !== null) this.sessions = growI32(this.sessions, cap);
  }

  /** Trimmed copy of the columns (allocates). */
  build(): Interactions {
    const n = this.length;
    return {
      length: n,
      users: this.users.slice(0, n),
      items: this.items.slice(0, n),
      weights: this.weights === null ? null : this.weights.slice(0, n),
      ts: this.ts === null ? null : this.ts.slice(0, n),
      events: this.events === null ? null : this.events.slice(0, n),
      eventNames: this.events === null ? [] : this.eventNames.ids().slice(),
      sessions: this.sessions === null ? null : this.sessions.slice(0, n),
    };
  }
}

function growI32(a: Int32Array, cap: number): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/** An Interactions from plain columns (validates lengths once). */
export function interactions(cols: {
  users: Int32Array;
  items: Int32Array;
  weights?: Float32Array | null;
  ts?: Float64Array | null;
  events?: Int32Array | null;
  eventNames?: readonly string[];
  sessions?: Int32Array | null;
}): Interactions {
  const n = cols.users.length;
  const check = (name: string, a: { length: number } | null | undefined) => {
    if (a != null && a.length !== n) {
      throw new RangeError(`interactions: column "${name}" has ${a.length} rows, users has ${n}`);
    }
  };
  check("items", cols.items);
  check("weights", cols.weights);
  check("ts", cols.ts);
  check("events", cols.events);
  check("sessions", cols.sessions);
  return {
    length: n,
    users: cols.users,
    items: cols.items,
    weights: cols.weights ?? null,
    ts: cols.ts ?? null,
    events: cols.events ?? null,
    eventNames: cols.events ? (cols.eventNames ?? []) : [],
    sessions: cols.sessions ?? null,
  };
}

/** Rows `rows[0..n)` of `log`, in that order (allocates new columns). */
export function selectRows(log: Interactions, rows: Int32Array): Interactions {
  const n = rows.length;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const e = rows[k];
    users[k] = log.users[e];
    items[k] = log.items[e];
  }
  return {
    length: n,
    users,
    items,
    weights: log.weights === null ? null : gatherF32(log.weights, rows),
    ts: log.ts === null ? null : gatherF64(log.ts, rows),
    events: log.events === null ? null : gatherI32(log.events, rows),
    eventNames: log.eventNames,
    sessions: log.sessions === null ? null : gatherI32(log.sessions, rows),
  };
}

function gatherI32(a: Int32Array, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = a[rows[k]];
  return out;
}
function gatherF32(a: Float32Array, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = a[rows[k]];
  return out;
}
function gatherF64(a: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = a[rows[k]];
  return out;
}

/** Rows where `keep[e]` is non-zero, in original order. */
export function filterRows(log: Interactions, keep: Uint8Array): Interactions {
  let n = 0;
  for (let e = 0; e < log.length; e++) if (keep[e]) n++;
  const rows = new Int32Array(n);
  let k = 0;
  for (let e = 0; e < log.length; e++) if (keep[e]) rows[k++] = e;
  return selectRows(log, rows);
}

/**
 * Row order grouped by user (users ascending), and within a user by time (ts ascending, ties
 * and ts = null keep file order). Counting sort by user, then a small sort per user: O(n log d).
 * Returns the permutation and per-user offsets into it (`offsets[u]..offsets[u+1]`).
 */
export function orderByUserTime(
  log: Interactions,
  nUsers: number,
): { order: Int32Array; offsets: Int32Array } {
  const n = log.length;
  const offsets = new Int32Array(nUsers + 1);
  for (let e = 0; e < n; e++) offsets[log.users[e] + 1]++;
  for (let u = 0; u < nUsers; u++) offsets[u + 1] += offsets[u];
  const pos = offsets.slice(0, nUsers);
  const order = new Int32Array(n);
  for (let e = 0; e < n; e++) order[pos[log.users[e]]++] = e;
  const ts = log.ts;
  if (ts !== null) {
    for (let u = 0; u < nUsers; u++) {
      const a = offsets[u];
      const b = offsets[u + 1];
      if (b - a < 2) continue;
      let sorted = true;
      for (let k = a + 1; k < b; k++) {
        if (ts[order[k]] < ts[order[k - 1]]) {
          sorted = false;
          break;
        }
      }
      if (!sorted) order.subarray(a, b).sort((x, y) => ts[x] - ts[y] || x - y);
    }
  }
  return { order, offsets };
}

/** Largest user index + 1 (0 for an empty log). */
export function userCount(log: Interactions): number {
  let m = -1;
  for (let e = 0; e < log.length; e++) if (log.users[e] > m) m = log.users[e];
  return m + 1;
}

/** Concatenates logs with the same columns; event names are re-interned into one list. */
export function concatInteractions(logs: readonly Interactions[]): Interactions {
  const n = logs.reduce((s, l) => s + l.length, 0);
  const hasW = logs.some((l) => l.weights !== null);
  const hasT = logs.every((l) => l.ts !== null) && logs.length > 0;
  const hasE = logs.some((l) => l.events !== null);
  const hasS = logs.every((l) => l.sessions !== null) && logs.length > 0;
  const b = new InteractionsBuilder({ weights: hasW, ts: hasT, events: hasE, sessions: hasS }, n);
  for (const l of logs) {
    const map = new Int32Array(l.eventNames.length);
    for (let k = 0; k < l.eventNames.length; k++) map[k] = b.event(l.eventNames[k]);
    const def = hasE && l.events === null ? b.event("interaction") : 0;
    for (let e = 0; e < l.length; e++) {
      b.push(
        l.users[e],
        l.items[e],
        l.weights === null ? 1 : l.weights[e],
        hasT ? (l.ts as Float64Array)[e] : 0,
        l.events === null ? def : map[l.events[e]],
        hasS ? (l.sessions as Int32Array)[e] : 0,
      );
    }
  }
  return b.build();
}

/**
 * Renumbers an id map in sorted order (numeric ids numerically, others lexically) and rewrites
 * the index columns in place. Makes loader output independent of the input's row order
 * (ml-100k: index = id − 1).
 */
export function sortIdMap(map: IdMap, columns: readonly Int32Array[]): IdMap {
  const ids = map.ids();
  const numeric = ids.every((s) => /^-?\d+$/.test(s));
  const order = Array.from(ids.keys());
  if (numeric) {
    const v = ids.map(Number);
    order.sort((a, b) => v[a] - v[b]);
  } else order.sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
  const remap = new Int32Array(ids.length);
  const sorted = new IdMap();
  for (let k = 0; k < order.length; k++) {
    remap[order[k]] = k;
    sorted.add(ids[order[k]]);
  }
  for (const col of columns) for (let e = 0; e < col.length; e++) col[e] = remap[col[e]];
  return sorted;
}
