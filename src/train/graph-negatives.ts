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
  /** First item rank of the band (0-based). Default 50. */
  readonly from?: number;
  /** End of the band (exclusive). Default 200. The core's walks must keep ≥ `to` ranks. */
  readonly to?: number;
}

/**
 * A hard-negative source over the query user's visit ranking (read from the core once it is
 * prepared): an item drawn uniformly from item ranks [from, min(to, items reached)), or −1.
 */
export function visitRankBand(core: PinSageCore, o: VisitRankBandOptions = {}): HardNegativeSource {
  const from = o.from ?? 50;
  const to = o.to ?? 200;
  return (query, _positive, rng) => {
    const imp = core.importance as Importance;
    const nUsers = core.graph?.nUsers ?? 0;
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
