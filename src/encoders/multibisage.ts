/**
 * MultiBiSage-style encoder (Gurukar et al. 2022; spec §5.6.3): the heterogeneous graph is split
 * into one bipartite graph per relation (user–item, item–genre, user–occupation, …; both
 * directions), a PinSage convolution (Code 5-7, encoders/graph-conv.ts, its own weights) runs on
 * each, so a node gets one embedding per relation it takes part in — K of them, K = 4 for an
 * ML-100k user (item, age, gender, occupation), 3 for an item (user, genre, year) — and the K
 * embeddings are fused by self-attention over them (`RelationAttention`):
 *   q_k = Wq x_k + bq, k_k = Wk x_k + bk, v_k = Wv x_k + bv            (x_k: relation k's embedding)
 *   a_kl = softmax_l(q_k · k_l / √d),  o_k = Σ_l a_kl v_l
 *   y = (1/K) Σ_k (o_k + x_k)                                          (residual, mean pooling)
 * Input features are one shared ID table over all typed nodes (the paper shares content
 * features). Neighbourhoods per relation: PinSage's importance top-T from random walks with
 * restart on that relation's graph (default), or GraphSAGE's uniform `fanout` (all neighbours
 * at inference). Training samples each relation's layer-wise subgraph per batch (Code 5-8);
 * inference is the same convolution with every layer = all nodes, one relation after another.
 */
import { assert } from "../errors.ts";
import type { HeteroGraph } from "../graph/hetero.ts";
import { type ImportanceOptions, importanceNeighbors } from "../graph/random-walk.ts";
import {
  fixedNeighbors,
  type NeighborSampler,
  type Subgraph,
  SubgraphScratch,
  sampleSubgraph,
  uniformNeighbors,
} from "../graph/subgraph.ts";
import { buildCsr, type Csr } from "../math/csr.ts";
import type { Rng } from "../math/rng.ts";
import { type ConvPass, convShape, GraphConv } from "./graph-conv.ts";
import { DenseLayer } from "./graph-dense.ts";
import { GraphSide, type GraphSideName, type SharedGraphCore } from "./graph-side.ts";
import {
  checkSideRows,
  fullSubgraph,
  type HeteroFieldOptions,
  heteroGraphOf,
  sideNodes,
  sideType,
} from "./hetero-core.ts";
import { checkInit, type InitOptions, initInto } from "./init.ts";
import { RowGrads } from "./row-grads.ts";
import type { EncoderContext, RowUpdater, SparseOptimizer } from "./types.ts";

/** What one attention forward keeps for its backward. */
export interface AttentionPass {
  readonly n: number;
  readonly K: number;
  /** n·K × d inputs, projections, attention outputs; A: n × K × K weights (rows sum to 1). */
  readonly X: Float32Array;
  readonly Q: Float32Array;
  readonly Kp: Float32Array;
  readonly V: Float32Array;
  readonly A: Float32Array;
  /** n × d fused vectors. */
  readonly Y: Float32Array;
}

/** Single-head self-attention over the K per-relation embeddings of a node, mean-pooled with a residual. */
export class RelationAttention {
  readonly q: DenseLayer;
  readonly k: DenseLayer;
  readonly v: DenseLayer;

  constructor(
    readonly dim: number,
    rng: Rng,
  ) {
    this.q = new DenseLayer(dim, dim, false, rng);
    this.k = new DenseLayer(dim, dim, false, rng);
    this.v = new DenseLayer(dim, dim, false, rng);
  }

  bind(opt: SparseOptimizer): void {
    for (const l of [this.q, this.k, this.v]) l.bind(opt);
  }

  step(): void {
    for (const l of [this.q, this.k, this.v]) l.step();
  }

  parameters(): Float32Array[] {
    return [this.q, this.k, this.v].flatMap((l) => l.parameters());
  }

  /** X: n nodes × K embeddings × dim (row-major). Allocates the pass. */
  forward(X: Float32Array, n: number, K: number): AttentionPass {
    const d = this.dim;
    const rows = n * K;
    const Q = new Float32Array(rows * d);
    const Kp = new Float32Array(rows * d);
    const V = new Float32Array(rows * d);
    if (rows > 0) {
      this.q.forwardInto(X, rows, Q);
      this.k.forwardInto(X, rows, Kp);
      this.v.forwardInto(X, rows, V);
    }
    const A = new Float32Array(n * K * K);
    const Y = new Float32Array(n * d);
    const scale = 1 / Math.sqrt(d);
    for (let i = 0; i < n; i++) {
      const base = i * K;
      for (let a = 0; a < K; a++) {
        const off = i * K * K + a * K; // row a of node i's K × K block
        // a_al = softmax_l(q_a · k_l / √d)
        let mx = -Infinity;
        for (let l = 0; l < K; l++) {
          let s = 0;
          const qo = (base + a) * d;
          const ko = (base + l) * d;
          for (let j = 0; j < d; j++) s += Q[qo + j] * Kp[ko + j];
          A[off + l] = s * scale;
          if (A[off + l] > mx) mx = A[off + l];
        }
        let z = 0;
        for (let l = 0; l < K; l++) {
          const e = Math.exp(A[off + l] - mx);
          A[off + l] = e;
          z += e;
        }
        for (let l = 0; l < K; l++) A[off + l] /= z;
        // y += (o_a + x_a) / K,  o_a = Σ_l a_al v_l
        const yo = i * d;
        for (let l = 0; l < K; l++) {
          const w = A[off + l] / K;
          const vo = (base + l) * d;
          for (let j = 0; j < d; j++) Y[yo + j] += w * V[vo + j];
        }
        const xo = (base + a) * d;
        for (let j = 0; j < d; j++) Y[yo + j] += X[xo + j] / K;
      }
    }
    return { n, K, X, Q, Kp, V, A, Y };
  }

  /** Backward from dY (n × d): accumulates the projections' gradients, returns dX (n·K × d). */
  backward(p: AttentionPass, dY: Float32Array): Float32Array {
    const d = this.dim;
    const { n, K, Q, Kp, V, A } = p;
    const rows = n * K;
    const dX = new Float32Array(rows * d);
    const dQ = new Float32Array(rows * d);
    const dK = new Float32Array(rows * d);
    const dV = new Float32Array(rows * d);
    const dA = new Float32Array(K);
    const scale = 1 / Math.sqrt(d);
    for (let i = 0; i < n; i++) {
      const base = i * K;
      const yo = i * d;
      for (let a = 0; a < K; a++) {
        const off = i * K * K + a * K;
        // do_a = dy / K (and the residual: dx_a += dy / K)
        const xo = (base + a) * d;
        for (let j = 0; j < d; j++) dX[xo + j] += dY[yo + j] / K;
        // da_al = do_a · v_l;  dv_l += a_al do_a
        let sum = 0;
        for (let l = 0; l < K; l++) {
          const vo = (base + l) * d;
          let s = 0;
          for (let j = 0; j < d; j++) s += dY[yo + j] * V[vo + j];
          dA[l] = s / K;
          sum += A[off + l] * dA[l];
          const w = A[off + l] / K;
          for (let j = 0; j < d; j++) dV[vo + j] += w * dY[yo + j];
        }
        // ds_al = a_al (da_al − Σ_m a_am da_am);  dq_a += ds k_l / √d;  dk_l += ds q_a / √d
        const qo = (base + a) * d;
        for (let l = 0; l < K; l++) {
          const ds = A[off + l] * (dA[l] - sum) * scale;
          const ko = (base + l) * d;
          for (let j = 0; j < d; j++) {
            dQ[qo + j] += ds * Kp[ko + j];
            dK[ko + j] += ds * Q[qo + j];
          }
        }
      }
    }
    if (rows > 0) {
      this.q.backward(p.X, Q, dQ, rows, dX, true);
      this.k.backward(p.X, Kp, dK, rows, dX, true);
      this.v.backward(p.X, V, dV, rows, dX, true);
    }
    return dX;
  }
}

export interface MultiBiSageOptions extends InitOptions, HeteroFieldOptions {
  /** Output and feature size. Default 64. */
  readonly dim?: number;
  /** Size of each convolution's per-neighbour transform Q. Default = dim. */
  readonly hidden?: number;
  /** Convolution layers per relation graph. Default 2. */
  readonly layers?: number;
  /** "importance" (PinSage per relation, default) or "uniform" (GraphSAGE per relation). */
  readonly neighbors?: "importance" | "uniform";
  /** Importance neighbours kept per node and relation (T). Default 10. */
  readonly topT?: number;
  /** Uniform: neighbours sampled per node, layer and relation in training (all at inference). Default 10. */
  readonly fanout?: number;
  /** Random walks with restart per relation graph (importance). */
  readonly walk?: Omit<ImportanceOptions, "topT">;
}

/** One relation's bipartite graph over global node ids (both directions). */
export interface RelationGraph {
  readonly name: string;
  /** The two node types it joins. */
  readonly types: readonly [number, number];
  readonly adjacency: Csr;
}

/** One bipartite graph per relation of a heterogeneous graph (MultiBiSage). Allocates. */
export function relationGraphs(g: HeteroGraph): RelationGraph[] {
  const out: RelationGraph[] = [];
  const N = g.nNodes;
  for (const r of g.relations) {
    if (r.src > r.dst) continue;
    const back = g.relations.find((s) => s.src === r.dst && s.dst === r.src);
    assert(back !== undefined, () => `relationGraphs: relation ${r.name} has no reverse`);
    const m = r.csr.indices.length + back.csr.indices.length;
    const rows = new Int32Array(m);
    const cols = new Int32Array(m);
    let w = 0;
    for (const x of [r, back]) {
      const a = g.typeOffsets[x.src];
      const b = g.typeOffsets[x.dst];
      for (let i = 0; i < x.csr.nRows; i++)
        for (let e = x.csr.offsets[i]; e < x.csr.offsets[i + 1]; e++) {
          rows[w] = a + i;
          cols[w++] = b + x.csr.indices[e];
        }
    }
    out.push({
      name: `${g.nodeTypes[r.src]}~${g.nodeTypes[r.dst]}`,
      types: [r.src, r.dst],
      adjacency: { ...buildCsr(N, N, rows, cols, null, "one"), values: null },
    });
  }
  return out;
}

interface RelationState {
  readonly graph: RelationGraph;
  /** Fixed neighbourhoods of full-graph inference (importance top-T, or all neighbours). */
  readonly infer: Csr;
  train: NeighborSampler;
  scratch: SubgraphScratch;
}

interface SidePass {
  readonly subs: Subgraph[];
  readonly passes: ConvPass[];
  readonly att: AttentionPass;
}

type Side = GraphSideName;

export class MultiBiSageCore implements SharedGraphCore {
  readonly dim: number;
  readonly hidden: number;
  readonly layers: number;
  readonly kind: "importance" | "uniform";
  graph: HeteroGraph | null = null;
  relations: RelationState[] = [];
  /** Relation indices each side's nodes take part in (users, items). */
  relationsOf: Record<Side, number[]> = { users: [], items: [] };
  table: Float32Array = new Float32Array(0);
  convs: GraphConv[] = [];
  fusion: Record<Side, RelationAttention> | null = null;
  private rows: RowGrads | null = null;
  private updater: RowUpdater | null = null;
  private rng: Rng | null = null;
  private readonly last = new Map<Side, SidePass>();
  private pending = 0;
  private data: unknown = null;

  constructor(private readonly o: MultiBiSageOptions = {}) {
    const shape = convShape(o, "multiBiSage");
    this.dim = shape.dim;
    this.hidden = shape.hidden;
    this.layers = shape.layers;
    this.kind = shape.kind;
    checkInit(o, "multiBiSage");
  }

  prepare(ctx: EncoderContext, side: Side): void {
    checkSideRows("multiBiSage", side, ctx.nRows, ctx.data);
    if (this.data === ctx.data) return;
    this.data = ctx.data;
    this.prepareGraph(heteroGraphOf(ctx.data, this.o), ctx.rng);
    this.initParameters(ctx.rng);
    for (const c of this.convs) c.bind(ctx.optimizer);
    for (const f of Object.values(this.fusion as Record<Side, RelationAttention>)) f.bind(ctx.optimizer);
    const N = (this.graph as HeteroGraph).nNodes;
    this.updater = ctx.optimizer.bind(this.table, N, this.dim, false);
  }

  /** Relation graphs and their neighbourhoods (also used by tests on hand-made graphs). */
  prepareGraph(g: HeteroGraph, rng: Rng): void {
    this.graph = g;
    this.rng = rng;
    this.relations = relationGraphs(g).map((graph) => {
      let infer: Csr;
      let train: NeighborSampler;
      if (this.kind === "importance") {
        infer = importanceNeighbors({ ...graph.adjacency, nNodes: g.nNodes }, rng, {
          ...this.o.walk,
          topT: this.o.topT ?? 10,
        }).neighbors;
        train = fixedNeighbors(infer);
      } else {
        infer = graph.adjacency;
        let maxDeg = 0;
        for (let v = 0; v < g.nNodes; v++)
          maxDeg = Math.max(maxDeg, graph.adjacency.offsets[v + 1] - graph.adjacency.offsets[v]);
        // fanout ≥ every degree: all neighbours, as at inference
        train = uniformNeighbors(graph.adjacency, Math.min(this.o.fanout ?? 10, maxDeg));
      }
      return { graph, infer, train, scratch: new SubgraphScratch(g.nNodes, Math.max(train.max, 1)) };
    });
    for (const side of ["users", "items"] as const)
      this.relationsOf[side] = this.relations.flatMap((r, i) =>
        r.graph.types.includes(sideType(side)) ? [i] : [],
      );
    this.rows = new RowGrads(g.nNodes, this.dim);
  }

  /** Fresh ID table, one convolution per relation, one attention per side. */
  initParameters(rng: Rng): void {
    const g = this.graph as HeteroGraph;
    this.table = new Float32Array(g.nNodes * this.dim);
    initInto(this.table, this.o, rng);
    this.convs = this.relations.map(() => new GraphConv(this.dim, this.hidden, this.layers, rng));
    this.fusion = {
      users: new RelationAttention(this.dim, rng),
      items: new RelationAttention(this.dim, rng),
    };
  }

  /** Mini-batch forward of global node ids of one side (each relation's subgraph sampled, Code 5-8). */
  forwardNodesInto(side: Side, nodes: Int32Array, n: number, out: Float32Array): void {
    if (this.pending > 0) this.apply();
    const d = this.dim;
    const rels = this.relationsOf[side];
    const K = rels.length;
    const X = new Float32Array(n * K * d);
    const subs: Subgraph[] = [];
    const passes: ConvPass[] = [];
    rels.forEach((r, k) => {
      const st = this.relations[r];
      const sub = sampleSubgraph(nodes, n, this.layers, st.train, this.rng as Rng, st.scratch);
      const pass = this.convForward(r, sub);
      const HK = pass.H[this.layers];
      for (let i = 0; i < n; i++) {
        const s = sub.targetIndex[i] * d;
        X.set(HK.subarray(s, s + d), (i * K + k) * d);
      }
      subs.push(sub);
      passes.push(pass);
    });
    const att = (this.fusion as Record<Side, RelationAttention>)[side].forward(X, n, K);
    out.set(att.Y.subarray(0, n * d));
    this.last.set(side, { subs, passes, att });
  }

  private convForward(r: number, sub: Subgraph): ConvPass {
    const d = this.dim;
    const l0 = sub.layers[0];
    const H0 = new Float32Array(l0.length * d);
    for (let i = 0; i < l0.length; i++) H0.set(this.table.subarray(l0[i] * d, (l0[i] + 1) * d), i * d);
    return this.convs[r].forward({ sizes: sub.layers.map((l) => l.length), edges: sub.edges }, H0);
  }

  forwardInto(side: Side, ids: Int32Array, n: number, out: Float32Array): void {
    this.forwardNodesInto(side, sideNodes(this.graph as HeteroGraph, side, ids, n), n, out);
  }

  backward(side: Side, _ids: Int32Array, n: number, dOut: Float32Array): void {
    const rec = this.last.get(side);
    assert(rec !== undefined, () => `multiBiSage.${side}: backward without a forward`);
    const d = this.dim;
    const rels = this.relationsOf[side];
    const K = rels.length;
    const fusion = (this.fusion as Record<Side, RelationAttention>)[side];
    const dX = fusion.backward(rec.att, dOut.subarray(0, n * d));
    const rows = this.rows as RowGrads;
    rels.forEach((r, k) => {
      const sub = rec.subs[k];
      const dHK = new Float32Array(sub.layers[this.layers].length * d);
      for (let i = 0; i < n; i++) {
        const o = sub.targetIndex[i] * d;
        for (let j = 0; j < d; j++) dHK[o + j] += dX[(i * K + k) * d + j];
      }
      const dH0 = this.convs[r].backward(rec.passes[k], dHK);
      const l0 = sub.layers[0];
      for (let i = 0; i < l0.length; i++) {
        const off = rows.offsetOf(l0[i]);
        const buf = rows.buf();
        for (let j = 0; j < d; j++) buf[off + j] += dH0[i * d + j];
      }
    });
    this.last.delete(side);
    if (++this.pending === 2) this.apply();
  }

  private apply(): void {
    (this.rows as RowGrads).flush(this.updater as RowUpdater);
    for (const c of this.convs) c.step();
    for (const f of Object.values(this.fusion as Record<Side, RelationAttention>)) f.step();
    this.pending = 0;
  }

  /**
   * Full-graph inference of one side: each relation's convolution over all nodes (its layer-k
   * states computed once, fixed neighbourhoods, no sampling), then the attention fusion of every
   * user or item. Returns nUsers or nItems × dim. Allocates.
   */
  inferSide(side: Side): Float32Array {
    if (this.pending > 0) this.apply();
    const g = this.graph as HeteroGraph;
    const d = this.dim;
    const t = sideType(side);
    const a = g.typeOffsets[t];
    const n = g.typeOffsets[t + 1] - a;
    const rels = this.relationsOf[side];
    const K = rels.length;
    const X = new Float32Array(n * K * d);
    rels.forEach((r, k) => {
      const H = this.convForward(r, fullSubgraph(this.relations[r].infer, g.nNodes, this.layers)).H[
        this.layers
      ];
      for (let i = 0; i < n; i++) X.set(H.subarray((a + i) * d, (a + i + 1) * d), (i * K + k) * d);
    });
    return (this.fusion as Record<Side, RelationAttention>)[side].forward(X, n, K).Y;
  }

  /** Training only: every relation's sampler replaced (tests: all neighbours, to compare with inference). */
  useTrainSampler(make: (adjacency: Csr) => NeighborSampler): void {
    const N = (this.graph as HeteroGraph).nNodes;
    for (const r of this.relations) {
      r.train = make(r.graph.adjacency);
      r.scratch = new SubgraphScratch(N, Math.max(r.train.max, 1));
    }
  }

  exportSide(side: Side): Float32Array {
    return this.inferSide(side);
  }

  parameters(): Float32Array[] {
    const f = this.fusion as Record<Side, RelationAttention>;
    return [
      this.table,
      ...this.convs.flatMap((c) => c.parameters()),
      ...f.users.parameters(),
      ...f.items.parameters(),
    ];
  }
}

/** One side (users or items) of a MultiBiSage pair, as the framework's Encoder. */
export class MultiBiSageSide extends GraphSide<MultiBiSageCore> {
  constructor(core: MultiBiSageCore, side: Side) {
    super(core, side, "multiBiSage");
  }
}

/**
 * A MultiBiSage encoder pair (users, items) over one shared core.
 * @example const pair = multiBiSage({ itemFields: ["genre"], userFields: ["age", "gender", "occupation"] });
 */
export function multiBiSage(o: MultiBiSageOptions = {}): {
  users: MultiBiSageSide;
  items: MultiBiSageSide;
  core: MultiBiSageCore;
} {
  const core = new MultiBiSageCore(o);
  return { core, users: new MultiBiSageSide(core, "users"), items: new MultiBiSageSide(core, "items") };
}
