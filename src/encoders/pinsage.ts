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
 *    once, over the fixed top-T (PinSage) or all neighbours (GraphSAGE): no sampling randomness;
 *  - inductive inference (`inferGraph`): the trained weights over another graph with the same
 *    numbering plus new edges (e.g. items withheld from training, with their attribute-value
 *    nodes and interactions); nodes without a trained ID feature get a zero input feature, so
 *    their vectors come from features-as-nodes and neighbours only;
 *  - `itemAttributes`: item attribute values (e.g. genres) as extra graph nodes with ID
 *    features (graph/attribute-nodes.ts); items without training interactions are left out of the
 *    training graph entirely.
 * As with LightGCN the query side (users) and item side share one core; the dense layers and
 * the touched ID rows are updated once both sides have run backward.
 */
import { assert } from "../errors.ts";
import { buildAttributeGraph } from "../graph/attribute-nodes.ts";
import { type BipartiteGraph, buildBipartiteGraph } from "../graph/bipartite.ts";
import { type Importance, type ImportanceOptions, importanceNeighbors } from "../graph/random-walk.ts";
import {
  fixedNeighbors,
  type NeighborSampler,
  rowNormalizedWeights,
  type Subgraph,
  SubgraphScratch,
  type SubgraphSource,
  sampleSubgraph,
  uniformNeighbors,
} from "../graph/subgraph.ts";
import type { Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";
import type { AttributeField, Dataset, Interactions } from "../types.ts";
import { ConvBuffers, type ConvGraph, type ConvPass, convShape, GraphConv } from "./graph-conv.ts";
import { GraphSide, type GraphSideName } from "./graph-side.ts";
import { checkInit, type InitOptions, initInto } from "./init.ts";
import { RowGrads } from "./row-grads.ts";
import type { EncoderContext, RowUpdater } from "./types.ts";

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
  /** Item attribute fields of the dataset (e.g. ["genre"]) added as graph nodes. Default none. */
  readonly itemAttributes?: readonly string[];
  /**
   * Training only: probability that an item's ID feature in a batch's S_0 is replaced by zero (no
   * gradient), so the convolution learns to place items from neighbours and attribute nodes alone,
   * as it must for items unseen in training. Default 0.
   */
  readonly idDropout?: number;
}

type Side = GraphSideName;

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
  private source: SubgraphSource | null = null;
  private inferSampler: Csr | null = null;
  private scratch: SubgraphScratch | null = null;
  private rows: RowGrads | null = null;
  private updater: RowUpdater | null = null;
  private rng: Rng | null = null;
  /** Each side's forward of this step: its pass and where its targets start in the pass's targets. */
  private readonly last: Map<Side, { rec: PassRecord; offset: number }> = new Map();
  /** This step's joint pass (users' targets then the items'), open until the items side takes it. */
  private joint: { rec: PassRecord; split: number; open: boolean } | null = null;
  private pending = 0;
  /** Forward buffers per side (both passes live until backward) and one set for backward. */
  private readonly buffers = {
    users: new ConvBuffers(),
    items: new ConvBuffers(),
    backward: new ConvBuffers(),
  };
  private data: unknown = null;
  private exported: Float32Array | null = null;
  /** Nodes with a trained ID feature (degree > 0 in the training graph); null = all. */
  private known: Uint8Array | null = null;

  constructor(private readonly o: PinSageOptions = {}) {
    const shape = convShape(o, "pinSage");
    this.dim = shape.dim;
    this.hidden = shape.hidden;
    this.layers = shape.layers;
    this.kind = shape.kind;
    const p = o.idDropout ?? 0;
    assert(p >= 0 && p < 1, () => `pinSage: idDropout must be in [0, 1), got ${p}`);
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
    const g = this.trainingGraph(d);
    this.prepareGraph(g, ctx.rng);
    this.table = new Float32Array(g.nNodes * this.dim);
    initInto(this.table, this.o, ctx.rng);
    this.conv = new GraphConv(this.dim, this.hidden, this.layers, ctx.rng);
    this.conv.bind(ctx.optimizer);
    this.rows = new RowGrads(g.nNodes, this.dim);
    this.updater = ctx.optimizer.bind(this.table, g.nNodes, this.dim, false);
    this.rng = ctx.rng;
  }

  /** `itemAttributes` as a list (a comma-separated string is accepted from configs / the CLI). */
  private attributeNames(): string[] {
    const a = this.o.itemAttributes as readonly string[] | string | undefined;
    if (a === undefined) return [];
    return typeof a === "string" ? a.split(",").filter((s) => s !== "") : [...a];
  }

  /** The dataset's item attribute fields named by `itemAttributes`. */
  attributeFields(d: Dataset): AttributeField[] {
    return this.attributeNames().map((name) => {
      const f = d.itemAttributes.get(name);
      assert(
        f !== undefined,
        () =>
          `pinSage.itemAttributes: dataset "${d.name}" has no item attribute "${name}" (has: ${[...d.itemAttributes.keys()].join(", ") || "none"})`,
      );
      return f;
    });
  }

  /** Training graph: interactions (+ attribute nodes of items that have interactions). */
  private trainingGraph(d: Dataset): BipartiteGraph {
    const nU = d.users.size;
    const nI = d.items.size;
    if (this.attributeNames().length === 0) return buildBipartiteGraph(d.train, nU, nI);
    const seen = new Uint8Array(nI);
    for (let e = 0; e < d.train.length; e++) seen[d.train.items[e]] = 1;
    return buildAttributeGraph(d.train, nU, nI, {
      fields: this.attributeFields(d),
      include: (i) => seen[i] === 1,
    });
  }

  /**
   * The graph for inductive inference: the dataset's training interactions plus `extra` (e.g. the
   * interactions of items withheld from training), with attribute nodes for every item that has
   * an edge. Same node numbering as the training graph. Allocates.
   */
  inferenceGraph(d: Dataset, extra: Interactions): BipartiteGraph {
    const nU = d.users.size;
    const nI = d.items.size;
    const x = concatInteractions(d.train, extra);
    if (this.attributeNames().length === 0) return buildBipartiteGraph(x, nU, nI);
    return buildAttributeGraph(x, nU, nI, { fields: this.attributeFields(d) });
  }

  /** Neighbourhoods of a graph (also used by tests on hand-made graphs). */
  prepareGraph(g: BipartiteGraph, rng: Rng): void {
    this.graph = g;
    this.exported = null;
    this.known = new Uint8Array(g.nNodes);
    for (let v = 0; v < g.nNodes; v++) this.known[v] = g.degrees[v] > 0 ? 1 : 0;
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

  /**
   * A producer of training subgraphs sampled ahead (train/subgraph-sampler.ts: worker threads or
   * inline); null samples each batch's subgraph inline at its forward (the default).
   */
  useSubgraphSource(s: SubgraphSource | null): void {
    this.source = s;
  }

  /** What a producer needs to sample this core's training subgraphs (null before prepare). */
  samplingPlan(): { nUsers: number; nNodes: number; layers: number; sampler: NeighborSampler } | null {
    const g = this.graph;
    if (g === null || this.trainSampler === null) return null;
    return { nUsers: g.nUsers, nNodes: g.nNodes, layers: this.layers, sampler: this.trainSampler };
  }

  nodeOf(side: Side, id: number): number {
    return side === "users" ? id : (this.graph as BipartiteGraph).nUsers + id;
  }

  /**
   * Mini-batch forward (Code 5-8) of node ids; keeps the pass for `backward`. With a producer that
   * plans joint subgraphs (`takeJoint`), the users' forward runs one pass over the subgraph of the
   * step's users and items together and the items' forward reads its rows from that pass: nodes
   * in both sides' computation graphs (most of the graph on Gowalla) are computed once per step,
   * and the backward runs once on the summed output gradient.
   */
  forwardNodesInto(nodes: Int32Array, n: number, out: Float32Array, key: Side): void {
    if (this.pending > 0) this.apply();
    const d = this.dim;
    const j = this.joint;
    if (j?.open) {
      j.open = false;
      if (key === "items" && jointMatches(j.rec.sub, j.split, nodes, n)) {
        const HK = j.rec.pass.H[this.layers];
        const ti = j.rec.sub.targetIndex;
        for (let i = 0; i < n; i++)
          out.set(HK.subarray(ti[j.split + i] * d, (ti[j.split + i] + 1) * d), i * d);
        this.last.set(key, { rec: j.rec, offset: j.split });
        return;
      }
      this.release(j.rec); // the items side goes its own way (or never came)
    }
    const planned = key === "users" ? (this.source?.takeJoint?.(nodes, n) ?? null) : null;
    const sub =
      planned ??
      this.source?.take(key, nodes, n) ??
      sampleSubgraph(
        nodes,
        n,
        this.layers,
        this.trainSampler as NeighborSampler,
        this.rng as Rng,
        this.scratch as SubgraphScratch,
      );
    const l0 = sub.layers[0];
    const bufs = this.buffers[key];
    const H0 = bufs.take("H0", l0.length * d, true);
    const p = this.o.idDropout ?? 0;
    const g = this.graph as BipartiteGraph;
    const dropped = p > 0 ? new Uint8Array(l0.length) : null;
    for (let i = 0; i < l0.length; i++) {
      const v = l0[i];
      if (dropped !== null && v >= g.nUsers && v < g.nUsers + g.nItems && (this.rng as Rng).next() < p) {
        dropped[i] = 1;
        continue;
      }
      H0.set(this.table.subarray(v * d, (v + 1) * d), i * d);
    }
    const pass = (this.conv as GraphConv).forward(convGraph(sub), H0, bufs);
    const HK = pass.H[this.layers];
    for (let i = 0; i < n; i++)
      out.set(HK.subarray(sub.targetIndex[i] * d, (sub.targetIndex[i] + 1) * d), i * d);
    const rec: PassRecord = {
      sub,
      pass,
      dropped,
      dHK: new Float32Array(sub.layers[this.layers].length * d),
      waiting: planned === null ? 1 : 2,
    };
    this.last.set(key, { rec, offset: 0 });
    this.joint = planned === null ? null : { rec, split: n, open: true };
  }

  forwardInto(side: Side, ids: Int32Array, n: number, out: Float32Array): void {
    const nodes = new Int32Array(n);
    for (let i = 0; i < n; i++) nodes[i] = this.nodeOf(side, ids[i]);
    this.forwardNodesInto(nodes, n, out, side);
  }

  backward(side: Side, _ids: Int32Array, n: number, dOut: Float32Array): void {
    const s = this.last.get(side);
    assert(s !== undefined, () => `pinSage.${side}: backward without a forward`);
    const d = this.dim;
    const { rec, offset } = s;
    const ti = rec.sub.targetIndex;
    for (let i = 0; i < n; i++) {
      const o = ti[offset + i] * d;
      for (let j = 0; j < d; j++) rec.dHK[o + j] += dOut[i * d + j];
    }
    this.last.delete(side);
    this.release(rec);
    if (++this.pending === 2) this.apply();
  }

  /** One user of a pass is done with it; the last one runs its backward into the row gradients. */
  private release(rec: PassRecord): void {
    if (--rec.waiting > 0) return;
    const d = this.dim;
    const dH0 = (this.conv as GraphConv).backward(rec.pass, rec.dHK, this.buffers.backward);
    const rows = this.rows as RowGrads;
    const l0 = rec.sub.layers[0];
    const dropped = rec.dropped;
    for (let i = 0; i < l0.length; i++) {
      if (dropped !== null && dropped[i] === 1) continue;
      const off = rows.offsetOf(l0[i]);
      const buf = rows.buf();
      for (let j = 0; j < d; j++) buf[off + j] += dH0[i * d + j];
    }
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
    return this.inferOver(this.inferSampler as Csr, g.nNodes, this.table.slice(0, g.nNodes * this.dim));
  }

  /**
   * Inductive full-graph inference (GraphSAGE's unseen nodes): the trained weights over graph `g`
   * (same numbering as the training graph for its first nodes, e.g. from `inferenceGraph`).
   * Input features: the trained ID row of every node that had a training edge, zero for the others
   * (nodes withheld from training, nodes beyond the training graph). Neighbourhoods are those of
   * `g`: all neighbours (GraphSAGE) or the top-T of fresh random walks on `g` (PinSage, `rng`).
   * Returns the layer-K vectors of all `g.nNodes` nodes. Allocates.
   */
  inferGraph(g: BipartiteGraph, rng?: Rng): Float32Array {
    if (this.pending > 0) this.apply();
    const t = this.graph as BipartiteGraph;
    assert(t !== null, () => "pinSage.inferGraph: the encoder has no training graph yet (fit first)");
    assert(
      g.nUsers === t.nUsers && g.nItems === t.nItems && g.nNodes >= t.nNodes,
      () =>
        `pinSage.inferGraph: the graph has ${g.nUsers} users, ${g.nItems} items, ${g.nNodes} nodes; the training graph ${t.nUsers}, ${t.nItems}, ${t.nNodes}`,
    );
    const d = this.dim;
    const H0 = new Float32Array(g.nNodes * d);
    const known = this.known as Uint8Array;
    for (let v = 0; v < t.nNodes; v++)
      if (known[v] === 1) H0.set(this.table.subarray(v * d, (v + 1) * d), v * d);
    let nb: Csr;
    if (this.kind === "importance") {
      assert(rng !== undefined, () => "pinSage.inferGraph: importance neighbours need an rng for the walks");
      nb = importanceNeighbors(g, rng, { ...this.o.walk, topT: this.o.topT ?? 10 }).neighbors;
    } else nb = { ...g, values: null };
    return this.inferOver(nb, g.nNodes, H0);
  }

  /** Whether node v had a trained ID feature (an edge in the training graph). */
  isKnown(v: number): boolean {
    return this.known === null || (v < this.known.length && this.known[v] === 1);
  }

  private inferOver(nb: Csr, N: number, H0: Float32Array): Float32Array {
    const weights = rowNormalizedWeights(nb, N);
    const edges = { offsets: nb.offsets, indices: nb.indices, weights };
    const sizes = new Int32Array(this.layers + 1).fill(N);
    const cg: ConvGraph = { sizes, edges: [edges, ...Array.from({ length: this.layers }, () => edges)] };
    const pass = (this.conv as GraphConv).forward(cg, H0);
    return pass.H[this.layers];
  }

  exportSide(side: Side): Float32Array {
    this.exported = this.inferAll(); // parameters may have been restored from a snapshot
    const g = this.graph as BipartiteGraph;
    const d = this.dim;
    return side === "users"
      ? this.exported.slice(0, g.nUsers * d)
      : this.exported.slice(g.nUsers * d, (g.nUsers + g.nItems) * d);
  }

  parameters(): Float32Array[] {
    return [this.table, ...(this.conv as GraphConv).parameters()];
  }
}

function concatInteractions(a: Interactions, b: Interactions): Interactions {
  const n = a.length + b.length;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  users.set(a.users.subarray(0, a.length));
  users.set(b.users.subarray(0, b.length), a.length);
  items.set(a.items.subarray(0, a.length));
  items.set(b.items.subarray(0, b.length), a.length);
  return { length: n, users, items, weights: null, ts: null, events: null, eventNames: [], sessions: null };
}

/** A forward pass of one step, kept until every side that reads it has run backward. */
interface PassRecord {
  readonly sub: Subgraph;
  readonly pass: ConvPass;
  readonly dropped: Uint8Array | null;
  /** Summed output gradient of all the pass's readers. */
  readonly dHK: Float32Array;
  /** Readers still to run backward (2 for a joint pass). */
  waiting: number;
}

/** Whether the joint subgraph's targets from `split` on are exactly nodes[0..n). */
function jointMatches(sub: Subgraph, split: number, nodes: Int32Array, n: number): boolean {
  const ti = sub.targetIndex;
  if (ti.length !== split + n) return false;
  const top = sub.layers[sub.layers.length - 1];
  for (let i = 0; i < n; i++) if (top[ti[split + i]] !== nodes[i]) return false;
  return true;
}

function convGraph(sub: Subgraph): ConvGraph {
  return { sizes: sub.layers.map((l) => l.length), edges: sub.edges };
}

/** One side (users or items) of a PinSage/GraphSAGE pair, as the framework's Encoder. */
export class PinSageSide extends GraphSide<PinSageCore> {
  constructor(core: PinSageCore, side: Side) {
    super(core, side, core.kind === "importance" ? "pinSage" : "graphSage");
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
