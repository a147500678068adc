/** One-screen summary of a dataset (`recallkit data inspect`). */
import type { AttributeTable, Dataset, Interactions } from "../types.ts";
import { sessionCount } from "./sessions.ts";

export interface DatasetSummary {
  readonly name: string;
  readonly users: number;
  readonly items: number;
  readonly interactions: { readonly train: number; readonly test: number };
  /** (train + test rows) / (users × items), as the papers report it. */
  readonly density: number;
  /** Share of train rows on the 20% most popular items (by train rows). */
  readonly popularitySkew: number;
  /** Train rows per user, over all users of the id map. */
  readonly itemsPerUser: { readonly mean: number; readonly median: number };
  /** Train rows per event name; null when the log has one kind of event. */
  readonly events: Readonly<Record<string, number>> | null;
  /** Distinct train sessions; null without sessions. */
  readonly sessions: number | null;
  /** Train time span as ISO dates; null without timestamps. */
  readonly timeRange: { readonly from: string; readonly to: string } | null;
  /** Attribute name → number of distinct values. */
  readonly attributes: {
    readonly items: Readonly<Record<string, number>>;
    readonly users: Readonly<Record<string, number>>;
  };
}

function cardinalities(t: AttributeTable): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, f] of t) out[name] = f.vocab.size;
  return out;
}

function median(counts: Int32Array): number {
  const s = counts.slice().sort();
  const n = s.length;
  if (n === 0) return 0;
  return n % 2 === 1 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function events(log: Interactions): Record<string, number> | null {
  if (log.events === null) return null;
  const c = new Array<number>(log.eventNames.length).fill(0);
  for (let e = 0; e < log.length; e++) c[log.events[e]]++;
  return Object.fromEntries(log.eventNames.map((n, k) => [n, c[k]]));
}

/** Counts and shape statistics of `ds` (O(rows + items log items)). */
export function inspectDataset(ds: Dataset): DatasetSummary {
  const nUsers = ds.users.size;
  const nItems = ds.items.size;
  const tr = ds.train;
  const perUser = new Int32Array(nUsers);
  const perItem = new Int32Array(nItems);
  for (let e = 0; e < tr.length; e++) {
    perUser[tr.users[e]]++;
    perItem[tr.items[e]]++;
  }
  const sortedItems = perItem.slice().sort().reverse();
  const top = Math.ceil(nItems * 0.2);
  let onTop = 0;
  for (let k = 0; k < top; k++) onTop += sortedItems[k];
  let timeRange: DatasetSummary["timeRange"] = null;
  if (tr.ts !== null && tr.length > 0) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let e = 0; e < tr.length; e++) {
      if (tr.ts[e] < lo) lo = tr.ts[e];
      if (tr.ts[e] > hi) hi = tr.ts[e];
    }
    timeRange = { from: new Date(lo * 1000).toISOString(), to: new Date(hi * 1000).toISOString() };
  }
  const nTest = ds.test?.length ?? 0;
  return {
    name: ds.name,
    users: nUsers,
    items: nItems,
    interactions: { train: tr.length, test: nTest },
    density: nUsers * nItems === 0 ? 0 : (tr.length + nTest) / (nUsers * nItems),
    popularitySkew: tr.length === 0 ? 0 : onTop / tr.length,
    itemsPerUser: { mean: nUsers === 0 ? 0 : tr.length / nUsers, median: median(perUser) },
    events: events(tr),
    sessions: tr.sessions === null ? null : sessionCount(tr),
    timeRange,
    attributes: { items: cardinalities(ds.itemAttributes), users: cardinalities(ds.userAttributes) },
  };
}
