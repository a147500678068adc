/**
 * Merging many recall channels into one candidate set (spec §5.1.4). Two strategies, named as the
 * spec names them so the difference stays visible:
 * - `roundRobin` (Code 5-2, the right way): each round, every channel pops its best remaining item
 *   into the result; duplicates are kept once; stop when the result holds k items or all channels
 *   run dry. Every channel's best items get in, whatever the channel order.
 * - `priority` (Code 5-1, the wrong way): channels fill the result one after another in a fixed
 *   order; once the first channels fill it, later channels are dropped entirely.
 */
import { assert } from "../errors.ts";
import { TopK } from "../math/topk.ts";

export type MergeStrategy = "roundRobin" | "priority";

/** One channel's ranked list for one request, best first. */
export interface ChannelList {
  readonly name: string;
  readonly ids: ArrayLike<number>;
}

export interface Provenance {
  readonly channel: string;
  /** 1-based rank of the item in that channel's list. */
  readonly rank: number;
}

export interface MergedItem {
  readonly item: number;
  /** The channel whose turn inserted the item. */
  readonly insertedBy: string;
  /** Every channel that recalled the item, in channel order, with its rank there. */
  readonly channels: Provenance[];
}

export interface MergeOptions {
  readonly strategy?: MergeStrategy;
  /**
   * Round robin only. false (default, as in Code 5-2): a channel whose popped item is already in
   * the result spends its turn. true: it keeps popping until it adds a new item.
   */
  readonly skipDuplicates?: boolean;
  /**
   * Round robin only: pops per round for each channel by name (default 1 each, as in Code 5-2).
   * Fractions accumulate, so 0.5 means one pop every other round; 0 mutes a channel. A way to
   * give a strong channel more of the budget without starving the others.
   */
  readonly weights?: Readonly<Record<string, number>>;
}

/** Merges ranked channel lists into at most k distinct items with provenance. */
export function mergeChannels(
  lists: readonly ChannelList[],
  k: number,
  opts: MergeOptions = {},
): MergedItem[] {
  assert(Number.isInteger(k) && k >= 0, () => `merge: k must be an integer ≥ 0, got ${k}`);
  const order =
    (opts.strategy ?? "roundRobin") === "roundRobin"
      ? roundRobinOrder(lists, k, opts.skipDuplicates ?? false, weightsOf(lists, opts.weights))
      : priorityOrder(lists, k);
  // Provenance: where every channel ranked each merged item.
  const at = new Map<number, Provenance[]>();
  for (const [item] of order) at.set(item, []);
  for (const l of lists) {
    for (let r = 0; r < l.ids.length; r++) {
      const p = at.get(l.ids[r]);
      if (p !== undefined && (p.length === 0 || p[p.length - 1].channel !== l.name))
        p.push({ channel: l.name, rank: r + 1 });
    }
  }
  return order.map(([item, by]) => ({ item, insertedBy: lists[by].name, channels: at.get(item) ?? [] }));
}

function weightsOf(lists: readonly ChannelList[], weights: MergeOptions["weights"]): Float64Array {
  const w = new Float64Array(lists.length).fill(1);
  for (const [name, v] of Object.entries(weights ?? {})) {
    assert(
      Number.isFinite(v) && v >= 0,
      () => `merge: weight of channel "${name}" must be a number ≥ 0, got ${v}`,
    );
    const c = lists.findIndex((l) => l.name === name);
    assert(
      c >= 0,
      () =>
        `merge: weight given for unknown channel "${name}" (channels: ${lists.map((l) => l.name).join(", ")})`,
    );
    w[c] = v;
  }
  return w;
}

/**
 * Code 5-2: every round, each channel pops its best remaining item (weight w: w pops per round,
 * fractions carried over as credit) until k items or every channel is dry.
 */
function roundRobinOrder(
  lists: readonly ChannelList[],
  k: number,
  skipDuplicates: boolean,
  weights: Float64Array,
): [number, number][] {
  const seen = new Set<number>();
  const out: [number, number][] = [];
  const pos = new Int32Array(lists.length);
  const credit = new Float64Array(lists.length);
  let live = true;
  while (out.length < k && live) {
    live = false;
    for (let c = 0; c < lists.length && out.length < k; c++) {
      const ids = lists[c].ids;
      credit[c] += weights[c];
      for (; credit[c] >= 1 && out.length < k && pos[c] < ids.length; credit[c] -= 1) {
        while (pos[c] < ids.length) {
          const it = ids[pos[c]++];
          if (!seen.has(it)) {
            seen.add(it);
            out.push([it, c]);
            break;
          }
          if (!skipDuplicates) break;
        }
      }
      if (pos[c] < ids.length && weights[c] > 0) live = true;
    }
  }
  return out;
}

/** Code 5-1: channels in fixed order, each inserting its top items while room is left. */
function priorityOrder(lists: readonly ChannelList[], k: number): [number, number][] {
  const seen = new Set<number>();
  const out: [number, number][] = [];
  for (let c = 0; c < lists.length && out.length < k; c++) {
    const ids = lists[c].ids;
    // Code 5-1 takes the channel's top `capacity` items; duplicates among them add nothing.
    const quota = Math.min(ids.length, k - out.length);
    for (let r = 0; r < quota; r++) {
      const it = ids[r];
      if (!seen.has(it)) {
        seen.add(it);
        out.push([it, c]);
      }
    }
  }
  return out;
}

/**
 * Batch form for evaluation: row i of every channel's TopK is merged into row i of the result.
 * Scores are the negated merge positions, so the result reads best first.
 */
export function mergeTopK(
  channels: readonly { name: string; lists: TopK }[],
  k: number,
  opts: MergeOptions = {},
): TopK {
  assert(channels.length > 0, () => "merge: no channels");
  const n = channels[0].lists.n;
  for (const c of channels)
    assert(c.lists.n === n, () => `merge: channel ${c.name} has ${c.lists.n} rows, expected ${n}`);
  const out = new TopK(n, k);
  for (let i = 0; i < n; i++) {
    const rows = channels.map((c) => ({
      name: c.name,
      ids: c.lists.ids.subarray(i * c.lists.k, i * c.lists.k + c.lists.counts[i]),
    }));
    const merged = mergeChannels(rows, k, opts);
    for (let j = 0; j < merged.length; j++) {
      out.ids[i * k + j] = merged[j].item;
      out.scores[i * k + j] = -j;
    }
    out.counts[i] = merged.length;
  }
  return out;
}
