/**
 * UserCF (spec §5.1.2): the same neighbourhood maths as ItemCF with users and items swapped —
 * S_user = A Aᵀ, normalised and pruned per user; r_u = S_user[u,:] · A with u's items masked.
 * Item weighting ("inverse"/"log" in the item's popularity) is the IIF of classic UserCF.
 *
 * @example
 * const cf = await new UserCF({ itemWeight: "log", neighbors: 100 }).fit(data);
 * const recs = await cf.recommend(Int32Array.of(0), 20);
 */
import { TopK } from "../math/topk.ts";
import type { Recommender, RecommendOptions } from "../recommender.ts";
import {
  NeighborhoodModel,
  type NeighborhoodOptions,
  resolveOptions,
  scoreFew,
  scoreOne,
} from "./item-cf.ts";
import {
  type ContextWeight,
  type InteractionState,
  type NeighborRows,
  type SimInput,
  scoreRows,
  similarityToVector,
} from "./similarity.ts";

export interface UserCFOptions extends NeighborhoodOptions {
  /** Weight of each item's contribution to user co-occurrence: 1/|U_i|^γ ("inverse"), (1/ln(1+|U_i|))^γ ("log") ["none"]. */
  readonly itemWeight?: ContextWeight;
  /** γ, the exponent of `itemWeight` [1]. */
  readonly itemWeightPower?: number;
}

export class UserCF extends NeighborhoodModel implements Recommender {
  readonly kind = "usercf";
  protected readonly byItem = false;

  constructor(options: UserCFOptions = {}) {
    super(resolveOptions("UserCF", options, options.itemWeight, options.itemWeightPower), { ...options });
  }

  override params(): Record<string, unknown> {
    const { contextWeight, contextWeightPower, ...rest } = super.params();
    return { ...rest, itemWeight: contextWeight, itemWeightPower: contextWeightPower };
  }

  protected override keepInput(): boolean {
    return true;
  }

  /** r_u = Σ_v S_user[u,v] · A[v,:] (history values and recency weights), masked, top-k per user. */
  recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK | Promise<TopK> {
    this.check();
    this.checkUsers(users);
    const a = (this.state as InteractionState).a;
    const s = this.sim as NeighborRows;
    const inp = this.scoreInput(
      { off: s.offsets, idx: s.indices, val: s.scores },
      { off: a.offsets, idx: a.indices, val: this.hist },
      this.nItems,
      this.maskOf(opts),
    );
    return scoreFew(inp, users, k, this.single) ?? scoreRows(inp, users, users, k, this.opts.workers);
  }

  /** The k most similar users of each user, best first. */
  similarUsers(users: Int32Array, k: number): TopK {
    return this.neighborsOf(users, k);
  }

  /**
   * A user known only by a few items: their similarity row to every known user is computed
   * exactly as a row of S_user (same measure, weights, pruning; no pair decay), then scored as
   * in `recommend`, masking the history and `exclude`.
   */
  recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    this.check();
    const hist = Int32Array.from(new Set(Array.from(recent).filter((i) => i >= 0 && i < this.nItems))).sort();
    const row = similarityToVector(this.input as SimInput, hist, null);
    const a = (this.state as InteractionState).a;
    const mask = Int32Array.from([...hist, ...(exclude ?? [])]);
    const inp = this.scoreInput(
      { off: Int32Array.of(0, row.ids.length), idx: row.ids, val: row.scores },
      { off: a.offsets, idx: a.indices, val: this.hist },
      this.nItems,
      { nRows: 1, nCols: this.nItems, offsets: Int32Array.of(0, mask.length), indices: mask, values: null },
    );
    if (row.ids.length === 0) return new TopK(1, k);
    return scoreOne(inp, k, this.single);
  }

  static async load(dir: string): Promise<UserCF> {
    return NeighborhoodModel.restore(dir, "usercf", (p) => new UserCF({ ...(p as UserCFOptions) }));
  }
}
