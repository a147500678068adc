/**
 * PinSage's hard negatives (Ying et al. KDD'18 §3.4; spec §5.6.2): items that are related to the
 * query but not very — those ranked in a band of the query node's personalised-PageRank (random
 * walk with restart) visit ranking, the paper's ranks 3000–5000 of 2 billion, here `from`–`to`
 * among the items the walks reached. Plugs into `negatives.hard({ easy, source, ratio })`, which
 * mixes them with easy (random) negatives.
 */
import type { PinSageCore } from "../encoders/pinsage.ts";
import type { Importance } from "../graph/random-walk.ts";
import type { HardNegativeSource } from "../negatives/hard.ts";

export interface VisitRankBandOptions {
  /** First item rank of the band (0-based). Default min(50, ⌊items/32⌋). */
  readonly from?: number;
  /** End of the band (exclusive). Default min(200, ⌊items/8⌋). The core's walks must keep ≥ `to` ranks. */
  readonly to?: number;
}

/**
 * The band of a catalogue of `nItems` items: the paper's ranks 3000–5000 sit far down the walks'
 * reach on 2 billion pins; here [50, 200) of the items a node's walks reach, scaled down on
 * small catalogues (at most the first 1/8 of the items: ranks past that are barely related at all).
 */
export function bandOf(nItems: number, o: VisitRankBandOptions = {}): { from: number; to: number } {
  return {
    from: o.from ?? Math.min(50, Math.floor(nItems / 32)),
    to: o.to ?? Math.min(200, Math.max(1, Math.floor(nItems / 8))),
  };
}

/**
 * A hard-negative source over the query user's visit ranking (read from the core once it is
 * prepared): an item drawn uniformly from item ranks [from, min(to, items reached)), or −1.
 */
export function visitRankBand(core: PinSageCore, o: VisitRankBandOptions = {}): HardNegativeSource {
  let band: { from: number; to: number } | null = null;
  return (query, _positive, rng) => {
    const imp = core.importance as Importance;
    const nUsers = core.graph?.nUsers ?? 0;
    band ??= bandOf(core.graph?.nItems ?? 0, o);
    const { from, to } = band;
    const r = imp.ranking;
    const a = r.offsets[query];
    const b = r.offsets[query + 1];
    let items = 0;
    for (let e = a; e < b; e++) if (r.indices[e] >= nUsers) items++;
    const hi = Math.min(to, items);
    if (hi <= from) return -1;
    const pick = from + Math.floor(rng.next() * (hi - from));
    let k = 0;
    for (let e = a; e < b; e++)
      if (r.indices[e] >= nUsers) {
        if (k === pick) return r.indices[e] - nUsers;
        k++;
      }
    return -1;
  };
}
