/**
 * LightGCN as a pair of encoders (He et al. SIGIR'20; the propagation-only GCN of spec §5.6):
 * the only parameters are the ID embeddings E^(0) of all users and items (one table over the
 * bipartite graph's nodes); an entity's vector is row u of F = Σ_{k=0..K} α_k Â^k E^(0), with
 * Â = D^-1/2 A D^-1/2 (graph/bipartite.ts) and α_k = 1/(K+1). No transforms, no nonlinearity.
 *
 * The trainer sees two encoders (`users` for the query side, `items` for the item side) that share
 * one `LightGcnCore`. Per training step:
 *  - the first `forwardInto` after an update propagates once (K SpMMs) and both sides read rows of F;
 *  - each side's `backward` adds its dL/dF rows into one dense dF; once both sides have reported
 *    (or before the next forward / export), dE^(0) = Pᵀ dF = P dF (P is symmetric) is propagated
 *    back with the same K SpMMs and the sparse optimizer updates every row it reached.
 */
import { assert } from "../errors.ts";
import { type BipartiteGraph, buildBipartiteGraph } from "../graph/bipartite.ts";
import { Propagation } from "../graph/propagate.ts";
import { GraphSide, type GraphSideName } from "./graph-side.ts";
import { checkInit, type InitOptions, initInto } from "./init.ts";
import type { EncoderContext, RowUpdater } from "./types.ts";

export interface LightGcnOptions extends InitOptions {
  /** Vector size. Default 64. */
  readonly dim?: number;
  /** Propagation layers K. Default 3 (the paper's best on Gowalla). */
  readonly layers?: number;
  /** Layer weights α_0..α_K. Default 1/(K+1) each. */
  readonly alphas?: readonly number[];
}

type Side = GraphSideName;

/** The shared state of a LightGCN encoder pair: graph, E^(0), F and the pending dF. */
export class LightGcnCore {
  readonly dim: number;
  readonly layers: number;
  graph: BipartiteGraph | null = null;
  /** E^(0), (nUsers + nItems) × dim; users first. */
  table: Float32Array = new Float32Array(0);
  private out: Float32Array = new Float32Array(0);
  private dOut: Float32Array = new Float32Array(0);
  private dTable: Float32Array = new Float32Array(0);
  private prop: Propagation | null = null;
  private updater: RowUpdater | null = null;
  private stale = true;
  private pending = 0; // sides whose backward has been added into dOut since the last update
  private data: unknown = null;

  constructor(private readonly o: LightGcnOptions = {}) {
    this.dim = o.dim ?? 64;
    this.layers = o.layers ?? 3;
    assert(
      Number.isInteger(this.dim) && this.dim >= 1,
      () => `lightGcn: dim must be an integer ≥ 1, got ${this.dim}`,
    );
    assert(
      Number.isInteger(this.layers) && this.layers >= 0,
      () => `lightGcn: layers must be an integer ≥ 0, got ${this.layers}`,
    );
    checkInit(o, "lightGcn");
  }

  /** Builds the graph and parameters once per dataset (both sides call it). */
  prepare(ctx: EncoderContext, side: Side): void {
    const d = ctx.data;
    const expect = side === "users" ? d.users.size : d.items.size;
    assert(
      ctx.nRows === expect,
      () =>
        `lightGcn.${side}: the positives give ${ctx.nRows} rows but the dataset has ${expect} ${side}; ` +
        "LightGCN needs user → item positives (positives.userItem())",
    );
    if (this.data === d) return;
    this.data = d;
    const g = buildBipartiteGraph(d.train, d.users.size, d.items.size);
    this.graph = g;
    const n = g.nNodes * this.dim;
    this.table = new Float32Array(n);
    initInto(this.table, this.o, ctx.rng);
    this.out = new Float32Array(n);
    this.dOut = new Float32Array(n);
    this.dTable = new Float32Array(n);
    this.prop = new Propagation(
      g,
      this.dim,
      this.layers,
      this.o.alphas === undefined ? {} : { alphas: this.o.alphas },
    );
    this.updater = ctx.optimizer.bind(this.table, g.nNodes, this.dim, false);
    this.stale = true;
    this.pending = 0;
  }

  /** Node id of row `id` of a side. */
  node(side: Side, id: number): number {
    return side === "users" ? id : (this.graph as BipartiteGraph).nUsers + id;
  }

  /** F = P E^(0), recomputed only after an update. */
  final(): Float32Array {
    if (this.pending > 0) this.applyUpdate();
    if (this.stale) {
      (this.prop as Propagation).runInto(this.table, this.out);
      this.stale = false;
    }
    return this.out;
  }

  forwardInto(side: Side, ids: Int32Array, n: number, out: Float32Array): void {
    const f = this.final();
    const d = this.dim;
    const base = side === "users" ? 0 : (this.graph as BipartiteGraph).nUsers * d;
    for (let i = 0; i < n; i++) {
      const s = base + ids[i] * d;
      for (let j = 0; j < d; j++) out[i * d + j] = f[s + j];
    }
  }

  backward(side: Side, ids: Int32Array, n: number, dOut: Float32Array): void {
    const d = this.dim;
    const base = side === "users" ? 0 : (this.graph as BipartiteGraph).nUsers * d;
    const g = this.dOut;
    for (let i = 0; i < n; i++) {
      const s = base + ids[i] * d;
      for (let j = 0; j < d; j++) g[s + j] += dOut[i * d + j];
    }
    if (++this.pending === 2) this.applyUpdate();
  }

  /** dE^(0) = P dF; one optimizer step on every row the gradient reached; dF cleared. */
  private applyUpdate(): void {
    const d = this.dim;
    const g = this.dTable;
    (this.prop as Propagation).runInto(this.dOut, g);
    const u = this.updater as RowUpdater;
    const N = (this.graph as BipartiteGraph).nNodes;
    for (let r = 0; r < N; r++) {
      const o = r * d;
      let any = false;
      for (let j = 0; j < d; j++)
        if (g[o + j] !== 0) {
          any = true;
          break;
        }
      if (any) u.update(r, g, o);
    }
    this.dOut.fill(0);
    this.pending = 0;
    this.stale = true;
  }

  parameters(): Float32Array[] {
    return [this.table];
  }

  /** Final vectors of one side, rows × dim (allocates). */
  exportSide(side: Side): Float32Array {
    this.stale = true; // parameters may have been restored from a snapshot
    const f = this.final();
    const g = this.graph as BipartiteGraph;
    const d = this.dim;
    return side === "users" ? f.slice(0, g.nUsers * d) : f.slice(g.nUsers * d, g.nNodes * d);
  }
}

/** One side (users or items) of a LightGCN pair, as the framework's Encoder. */
export class LightGcnSide extends GraphSide<LightGcnCore> {
  constructor(core: LightGcnCore, side: Side) {
    super(core, side, "lightGcn");
  }
}

/**
 * A LightGCN encoder pair over one shared table: `query: g.users, item: g.items`.
 * @example const g = lightGcn({ dim: 64, layers: 3 }); const recipe = { ..., query: g.users, item: g.items };
 */
export function lightGcn(o: LightGcnOptions = {}): {
  users: LightGcnSide;
  items: LightGcnSide;
  core: LightGcnCore;
} {
  const core = new LightGcnCore(o);
  return { core, users: new LightGcnSide(core, "users"), items: new LightGcnSide(core, "items") };
}
