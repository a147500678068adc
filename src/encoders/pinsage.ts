/**
 * PinSage (Ying et al. KDD'18; spec §5.6.2, Code 5-7..5-12) and GraphSAGE (Hamilton et al. 2017,
 * eq. 5-33, mean aggregator) as a pair of encoders over the user–item bipartite graph: a node's
 * input features are its ID embedding (learned, sparse rows), and its vector is the K-layer
 * convolution of graph-conv.ts over its neighbourhood.
 *  - neighbourhoods: PinSage's importance top-T from random walks with restart (visit counts as
 *    α_uv, graph/random-walk.ts) or GraphSAGE's uniform sample of m graph neighbours (α = 1/m);
 *  - training: per batch, the layer-wise computation graph of the batch's nodes is sampled
 *    (Code 5-8, graph/subgraph.ts) — never the whole graph — and forward/backward run on it;
 *  - inference (`exportAll`): layer by layer over all nodes, each node's layer-k state computed
 *    once, over the fixed top-T (PinSage) or all neighbours (GraphSAGE): no sampling randomness.
 * As with LightGCN the query side (users) and item side share one core; the dense layers and
 * the touched ID rows are updated once both sides have run backward.
 */
import { assert } from "../errors.ts";
import { type BipartiteGraph, buildBipartiteGraph } from "../graph/bipartite.ts";
import { type Importance, type ImportanceOptions, importanceNeighbors } from "../graph/random-walk.ts";
import {
  fixedNeighbors,
  type NeighborSampler,
  type Subgraph,
  SubgraphScratch,
  sampleSubgraph,
  uniformNeighbors,
} from "../graph/subgraph.ts";
import type { Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";
import { type ConvGraph, type ConvPass, GraphConv } from "./graph-conv.ts";
import { checkInit, type InitOptions, initInto } from "./init.ts";
import { RowGrads } from "./row-grads.ts";
import type { EncoderContext, GraphEncoder, RowUpdater } from "./types.ts";

export interface PinSageOptions extends InitOptions {
  /** Output and feature size. Default 64. */
  readonly dim?: number;
  /** Size of the per-neighbour transform Q. Default = dim. */
  readonly hidden?: number;
  /** Convolution layers K. Default 2. */
  readonly layers?: number;
  /** "importance" (PinSage, default) or "uniform" (GraphSAGE). */
  readonly neighbors?: "importance" | "uniform";
  /** Importance neighbours kept per node (T). Default 10. */
  readonly topT?: number;
  /** GraphSAGE: neighbours sampled per node and layer. Default 10. */
  readonly fanout?: number;
  /** Random walks with restart (importance): steps per node, restart probability, ranking kept. */
  readonly walk?: Omit<ImportanceOptions, "topT">;
}

type Side = "users" | "items";

export class PinSageCore {
  readonly dim: number;
  readonly hidden: number;
  readonly layers: number;
  readonly kind: "importance" | "uniform";
  graph: BipartiteGraph | null = null;
  importance: Importance | null = null;
  table: Float32Array = new Float32Array(0);
  conv: GraphConv | null = null;
  private trainSampler: NeighborSampler | null = null;
  private inferSampler: Csr | null = null;
  private scratch: SubgraphScratch | null = null;
  private rows: RowGrads | null = null;
  private updater: RowUpdater | null = null;
  private rng: Rng | null = null;
  private readonly last: Map<Side, { sub: Subgraph; pass: ConvPass }> = new Map();
  private pending = 0;
  private data: unknown = null;
  private exported: Float32Array | null = null;

  constructor(private readonly o: PinSageOptions = {}) {
    this.dim = o.dim ?? 64;
    this.hidden = o.hidden ?? this.dim;
    this.layers = o.layers ?? 2;
    this.kind = o.neighbors ?? "importance";
    assert(
      Number.isInteger(this.dim) && this.dim >= 1,
      () => `pinSage: dim must be an integer ≥ 1, got ${this.dim}`,
    );
    assert(
      Number.isInteger(this.layers) && this.layers >= 1,
      () => `pinSage: layers must be ≥ 1, got ${this.layers}`,
    );
    assert(
      this.kind === "importance" || this.kind === "uniform",
      () => `pinSage: neighbors must be "importance" or "uniform", got "${this.kind}"`,
    );
    checkInit(o, "pinSage");
  }

  prepare(ctx: EncoderContext, side: Side): void {
    const d = ctx.data;
    const expect = side === "users" ? d.users.size : d.items.size;
    assert(
      ctx.nRows === expect,
      () =>
        `pinSage.${side}: the positives give ${ctx.nRows} rows but the dataset has ${expect} ${side}; use positives.userItem()`,
    );
    if (this.data === d) return;
    this.data = d;
    const g = buildBipartiteGraph(d.train, d.users.size, d.items.size);
    this.prepareGraph(g, ctx.rng);
    this.table = new Float32Array(g.nNodes * this.dim);
    initInto(this.table, this.o, ctx.rng);
    this.conv = new GraphConv(this.dim, this.hidden, this.layers, ctx.rng);
    this.conv.bind(ctx.optimizer);
    this.rows = new RowGrads(g.nNodes, this.dim);
    this.updater = ctx.optimizer.bind(this.table, g.nNodes, this.dim, false);
    this.rng = ctx.rng;
  }

  /** Neighbourhoods of a graph (also used by tests on hand-made graphs). */
  prepareGraph(g: BipartiteGraph, rng: Rng): void {
    this.graph = g;
    this.exported = null;
    if (this.kind === "importance") {
      this.importance = importanceNeighbors(g, rng, { ...this.o.walk, topT: this.o.topT ?? 10 });
      this.inferSampler = this.importance.neighbors;
      this.trainSampler = fixedNeighbors(this.importance.neighbors);
    } else {
      this.inferSampler = { ...g, values: null };
      this.trainSampler = uniformNeighbors(g, this.o.fanout ?? 10);
    }
    this.scratch = new SubgraphScratch(g.nNodes, Math.max(this.trainSampler.max, 1));
  }

  /** Sets the neighbour sampler used in training (tests: all neighbours, to compare with inference). */
  useTrainSampler(s: NeighborSampler): void {
    this.trainSampler = s;
    this.scratch = new SubgraphScratch((this.graph as BipartiteGraph).nNodes, Math.max(s.max, 1));
  }

  nodeOf(side: Side, id: number): number {
    return side === "users" ? id : (this.graph as BipartiteGraph).nUsers + id;
  }

  /** Mini-batch forward (Code 5-8) of node ids; keeps the pass for `backward`. */
  forwardNodesInto(nodes: Int32Array, n: number, out: Float32Array, key: Side): void {
    if (this.pending > 0) this.apply();
    const sub = sampleSubgraph(
      nodes,
      n,
      this.layers,
      this.trainSampler as NeighborSampler,
      this.rng as Rng,
      this.scratch as SubgraphScratch,
    );
    const d = this.dim;
    const l0 = sub.layers[0];
    const H0 = new Float32Array(l0.length * d);
    for (let i = 0; i < l0.length; i++) H0.set(this.table.subarray(l0[i] * d, (l0[i] + 1) * d), i * d);
    const pass = (this.conv as GraphConv).forward(convGraph(sub), H0);
    const HK = pass.H[this.layers];
    for (let i = 0; i < n; i++)
      out.set(HK.subarray(sub.targetIndex[i] * d, (sub.targetIndex[i] + 1) * d), i * d);
    this.last.set(key, { sub, pass });
  }

  forwardInto(side: Side, ids: Int32Array, n: number, out: Float32Array): void {
    const nodes = new Int32Array(n);
    for (let i = 0; i < n; i++) nodes[i] = this.nodeOf(side, ids[i]);
    this.forwardNodesInto(nodes, n, out, side);
  }

  backward(side: Side, _ids: Int32Array, n: number, dOut: Float32Array): void {
    const rec = this.last.get(side);
    assert(rec !== undefined, () => `pinSage.${side}: backward without a forward`);
    const d = this.dim;
    const { sub, pass } = rec;
    const dHK = new Float32Array(sub.layers[this.layers].length * d);
    for (let i = 0; i < n; i++) {
      const o = sub.targetIndex[i] * d;
      for (let j = 0; j < d; j++) dHK[o + j] += dOut[i * d + j];
    }
    const dH0 = (this.conv as GraphConv).backward(pass, dHK);
    const rows = this.rows as RowGrads;
    const l0 = sub.layers[0];
    for (let i = 0; i < l0.length; i++) {
      const off = rows.offsetOf(l0[i]);
      const buf = rows.buf();
      for (let j = 0; j < d; j++) buf[off + j] += dH0[i * d + j];
    }
    this.last.delete(side);
    if (++this.pending === 2) this.apply();
  }

  private apply(): void {
    (this.rows as RowGrads).flush(this.updater as RowUpdater);
    (this.conv as GraphConv).step();
    this.pending = 0;
    this.exported = null;
  }

  /**
   * Full-graph inference (Code 5-10..5-12): S_k = all nodes for every k, over the fixed
   * neighbourhoods, so each node's layer-k state is computed once and shared. Allocates.
   */
  inferAll(): Float32Array {
    if (this.pending > 0) this.apply();
    const g = this.graph as BipartiteGraph;
    const nb = this.inferSampler as Csr;
    const N = g.nNodes;
    const weights = new Float32Array(nb.indices.length);
    for (let v = 0; v < N; v++) {
      let s = 0;
      for (let e = nb.offsets[v]; e < nb.offsets[v + 1]; e++) s += nb.values === null ? 1 : nb.values[e];
      for (let e = nb.offsets[v]; e < nb.offsets[v + 1]; e++)
        weights[e] = s > 0 ? (nb.values === null ? 1 : nb.values[e]) / s : 0;
    }
    const edges = { offsets: nb.offsets, indices: nb.indices, weights };
    const sizes = new Int32Array(this.layers + 1).fill(N);
    const cg: ConvGraph = { sizes, edges: [edges, ...Array.from({ length: this.layers }, () => edges)] };
    const pass = (this.conv as GraphConv).forward(cg, this.table.slice(0, N * this.dim));
    return pass.H[this.layers];
  }

  exportSide(side: Side): Float32Array {
    this.exported = this.inferAll(); // parameters may have been restored from a snapshot
    const g = this.graph as BipartiteGraph;
    const d = this.dim;
    return side === "users"
      ? this.exported.slice(0, g.nUsers * d)
      : this.exported.slice(g.nUsers * d, g.nNodes * d);
  }

  parameters(): Float32Array[] {
    return [this.table, ...(this.conv as GraphConv).parameters()];
  }
}

function convGraph(sub: Subgraph): ConvGraph {
  return { sizes: sub.layers.map((l) => l.length), edges: sub.edges };
}

export class PinSageSide implements GraphEncoder {
  readonly name: string;
  readonly dim: number;
  readonly hops: number;
  readonly table = null;

  constructor(
    readonly core: PinSageCore,
    readonly side: Side,
  ) {
    this.dim = core.dim;
    this.hops = core.layers;
    this.name = `${core.kind === "importance" ? "pinSage" : "graphSage"}.${side}(${core.dim}, K=${core.layers})`;
  }

  prepare(ctx: EncoderContext): void {
    this.core.prepare(ctx, this.side);
  }

  forwardInto(ids: Int32Array, n: number, out: Float32Array): void {
    this.core.forwardInto(this.side, ids, n, out);
  }

  backward(ids: Int32Array, n: number, dOut: Float32Array): void {
    this.core.backward(this.side, ids, n, dOut);
  }

  exportAll(): Float32Array {
    return this.core.exportSide(this.side);
  }

  parameters(): Float32Array[] {
    return this.core.parameters();
  }
}

/** A PinSage encoder pair (users, items) over one shared core. @example const g = pinSage({ topT: 10 }); */
export function pinSage(o: PinSageOptions = {}): {
  users: PinSageSide;
  items: PinSageSide;
  core: PinSageCore;
} {
  const core = new PinSageCore(o);
  return { core, users: new PinSageSide(core, "users"), items: new PinSageSide(core, "items") };
}

/** GraphSAGE: the same convolution with uniform neighbour sampling (`fanout` per node and layer). */
export function graphSage(o: Omit<PinSageOptions, "neighbors" | "topT" | "walk"> = {}): {
  users: PinSageSide;
  items: PinSageSide;
  core: PinSageCore;
} {
  return pinSage({ ...o, neighbors: "uniform" });
}
