import { assert } from "../errors.ts";
import type { Rng } from "../math/rng.ts";
import type { PairBatch, PositiveInfo, PositiveSource } from "./types.ts";

export interface PairsOptions {
  /** Query ids (dense, < nQueries) and target ids (dense, < nTargets), one pair per index. */
  readonly q: Int32Array;
  readonly t: Int32Array;
  readonly nQueries: number;
  readonly nTargets: number;
  /** How q is to be read by the model; default "custom". */
  readonly querySpace?: PositiveInfo["querySpace"];
}

/** Any pair stream (graph edges, booked-listing pairs, logged query → click): shuffled each epoch. */
class Pairs implements PositiveSource {
  readonly name = "pairs";
  readonly epochSize: number;
  private readonly order: Int32Array;
  private cursor = 0;

  constructor(private readonly o: PairsOptions) {
    assert(
      o.q.length === o.t.length,
      () => `positives.pairs: q has ${o.q.length} ids, t has ${o.t.length}; they must pair up`,
    );
    for (let e = 0; e < o.q.length; e++) {
      assert(
        o.q[e] >= 0 && o.q[e] < o.nQueries,
        () => `positives.pairs: q[${e}] = ${o.q[e]} is outside [0, ${o.nQueries})`,
      );
      assert(
        o.t[e] >= 0 && o.t[e] < o.nTargets,
        () => `positives.pairs: t[${e}] = ${o.t[e]} is outside [0, ${o.nTargets})`,
      );
    }
    this.epochSize = o.q.length;
    this.order = Int32Array.from({ length: o.q.length }, (_, e) => e);
  }

  prepare(): PositiveInfo {
    const counts = new Float64Array(this.o.nTargets);
    for (let e = 0; e < this.o.t.length; e++) counts[this.o.t[e]]++;
    return {
      nQueries: this.o.nQueries,
      nTargets: this.o.nTargets,
      targetCounts: counts,
      querySpace: this.o.querySpace ?? "custom",
      queryBags: null,
      targetBags: null,
    };
  }

  startEpoch(rng: Rng): void {
    rng.shuffle(this.order);
    this.cursor = 0;
  }

  nextInto(_rng: Rng, out: PairBatch, max: number): number {
    let n = 0;
    while (n < max && this.cursor < this.order.length) {
      const e = this.order[this.cursor++];
      out.q[n] = this.o.q[e];
      out.t[n] = this.o.t[e];
      n++;
    }
    return n;
  }
}

/** @example positives.pairs({ q: src, t: dst, nQueries: n, nTargets: n }) // graph edges */
export function pairs(o: PairsOptions): PositiveSource {
  return new Pairs(o);
}
