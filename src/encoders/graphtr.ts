/**
 * GraphTR-style encoder (Liu et al. CIKM'20; spec §5.6.3): convolution directly on the
 * heterogeneous graph, with a node's neighbours grouped by node type. Layer k, target t of type
 * T(t), neighbour types τ_1..τ_m of T(t) (from the graph's relations):
 *   q = Wq h_t + bq                                         (the target node is the query)
 *   per type τ: e_v = q · (Wk_τ h_v + bk_τ) / √d,  α_v = softmax over v ∈ N_τ(t),
 *               s_τ = Σ_v α_v (Wv_τ h_v + bv_τ)               (per-type attention)
 *   fields f_0 = Ws h_t + bs (the target itself), f_i = s_τi
 *   z = Σ_i f_i + Σ_{i<j} f_i ⊙ f_j                          (FM pooling: FM's first- and
 *                                                             second-order terms across types)
 *   h_t^(k) = z / ‖z‖₂
 * (all h^(k−1); h^(0) are ID features of every typed node). The spec's formula keeps only the
 * pairwise products; the target's own field keeps a node with one neighbour type (a genre node)
 * from collapsing to 0, and the first-order sum keeps one whose groups are all empty alive.
 * Training samples a layer-wise subgraph (Code 5-8) with up to `fanout` neighbours of each type
 * per node (`typedNeighbors`); inference runs the same layers with every layer = all nodes and
 * all neighbours.
 */
import { assert } from "../errors.ts";
import type { HeteroGraph } from "../graph/hetero.ts";
import {
  type LayerEdges,
  type NeighborSampler,
  type Subgraph,
  SubgraphScratch,
  sampleSubgraph,
} from "../graph/subgraph.ts";
import type { Rng } from "../math/rng.ts";
import { DenseLayer } from "./graph-dense.ts";
import { GraphSide, type GraphSideName, type SharedGraphCore } from "./graph-side.ts";
import {
  checkSideRows,
  fullSubgraph,
  type HeteroFieldOptions,
  heteroGraphOf,
  nodeTypeArray,
  sideNodes,
  sideType,
} from "./hetero-core.ts";
import { checkInit, type InitOptions, initInto } from "./init.ts";
import { RowGrads } from "./row-grads.ts";
import type { EncoderContext, RowUpdater, SparseOptimizer } from "./types.ts";

/** z (d) = Σ_i f_i + Σ_{i<j} f_i ⊙ f_j over F's m rows (m × d from off), with S1 = Σ f, S2 = Σ f². */
export function fmPoolInto(
  F: Float32Array,
  off: number,
  m: number,
  d: number,
  z: Float32Array,
  zOff: number,
): void {
  for (let j = 0; j < d; j++) {
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < m; i++) {
      const f = F[off + i * d + j];
      s1 += f;
      s2 += f * f;
    }
    // Σ_{i<j} f_i f_j = ((Σ f)² − Σ f²) / 2
    z[zOff + j] = s1 + 0.5 * (s1 * s1 - s2);
  }
}

/** dF_i = dz ⊙ (1 + S1 − f_i), written over m × d from off. */
export function fmPoolBackwardInto(
  F: Float32Array,
  off: number,
  m: number,
  d: number,
  dz: Float32Array,
  dzOff: number,
  dF: Float32Array,
): void {
  for (let j = 0; j < d; j++) {
    let s1 = 0;
    for (let i = 0; i < m; i++) s1 += F[off + i * d + j];
    for (let i = 0; i < m; i++) dF[off + i * d + j] = dz[dzOff + j] * (1 + s1 - F[off + i * d + j]);
  }
}

/**
 * GraphTR's neighbour choice: for each neighbour type of v, all of v's neighbours of that type
 * when there are at most `fanout`, else `fanout` drawn uniformly with replacement. Weights 1.
 * Relies on adjacency rows sorted by global id, so each type's neighbours are one run.
 */
export function typedNeighbors(g: HeteroGraph, nodeType: Int32Array, fanout: number): NeighborSampler {
  const adj = g.adjacency;
  const forEachTypeRun = (v: number, visit: (e: number, f: number) => void) => {
    const end = adj.offsets[v + 1];
    for (let e = adj.offsets[v]; e < end; ) {
      const t = nodeType[adj.indices[e]];
      let f = e;
      while (f < end && nodeType[adj.indices[f]] === t) f++;
      visit(e, f);
      e = f;
    }
  };
  let max = 0;
  for (let v = 0; v < g.nNodes; v++) {
    let c = 0;
    forEachTypeRun(v, (e, f) => {
      c += Math.min(f - e, fanout);
    });
    if (c > max) max = c;
  }
  return {
    max,
    random: true,
    sampleInto(v, rng, ids, weights) {
      let c = 0;
      forEachTypeRun(v, (e, f) => {
        const deg = f - e;
        if (deg <= fanout) for (let k = e; k < f; k++) ids[c++] = adj.indices[k];
        else for (let k = 0; k < fanout; k++) ids[c++] = adj.indices[e + Math.floor(rng.next() * deg)];
      });
      for (let k = 0; k < c; k++) weights[k] = 1;
      return c;
    },
  };
}

/** Field slots per node type: slot 0 = the node itself, then one per neighbour type. */
export interface FieldSchema {
  readonly nTypes: number;
  /** nTypes × nTypes: slot of neighbour type τ for a target of type t (≥ 1), or −1. */
  readonly slot: Int32Array;
  /** Fields per target type (1 + its neighbour types). */
  readonly count: Int32Array;
  readonly maxFields: number;
}

export function fieldSchema(g: HeteroGraph): FieldSchema {
  const T = g.nodeTypes.length;
  const slot = new Int32Array(T * T).fill(-1);
  const count = new Int32Array(T).fill(1);
  for (const r of g.relations) if (slot[r.src * T + r.dst] < 0) slot[r.src * T + r.dst] = count[r.src]++;
  let maxFields = 1;
  for (let t = 0; t < T; t++) maxFields = Math.max(maxFields, count[t]);
  return { nTypes: T, slot, count, maxFields };
}

/** What one layer's forward keeps for its backward. */
export interface TypedLayerPass {
  readonly n: number;
  readonly nPrev: number;
  readonly prevIds: Int32Array;
  readonly edges: LayerEdges;
  readonly Hprev: Float32Array;
  /** n × d: query, self field. */
  readonly Q: Float32Array;
  /** nPrev × d: keys and values, each row by its node type's projections. */
  readonly Kp: Float32Array;
  readonly V: Float32Array;
  /** Attention weight of every edge (softmax within the row's group of its neighbour type). */
  readonly alpha: Float32Array;
  /** n × maxFields × d fields (slot 0 = self), z and h = z/‖z‖. */
  readonly F: Float32Array;
  readonly Z: Float32Array;
  readonly norms: Float32Array;
  readonly H: Float32Array;
}

/** One GraphTR layer: per-type attention with the target as query, then FM pooling across types. */
export class TypedAttentionFm {
  readonly q: DenseLayer;
  readonly self: DenseLayer;
  readonly k: DenseLayer[] = [];
  readonly v: DenseLayer[] = [];

  constructor(
    readonly dim: number,
    readonly schema: FieldSchema,
    rng: Rng,
  ) {
    this.q = new DenseLayer(dim, dim, false, rng);
    this.self = new DenseLayer(dim, dim, false, rng);
    for (let t = 0; t < schema.nTypes; t++) {
      this.k.push(new DenseLayer(dim, dim, false, rng));
      this.v.push(new DenseLayer(dim, dim, false, rng));
    }
  }

  private all(): DenseLayer[] {
    return [this.q, this.self, ...this.k, ...this.v];
  }

  bind(opt: SparseOptimizer): void {
    for (const l of this.all()) l.bind(opt);
  }

  step(): void {
    for (const l of this.all()) l.step();
  }

  parameters(): Float32Array[] {
    return this.all().flatMap((l) => l.parameters());
  }

  /** Rows of prevIds grouped by node type: order[t] = local indices of type t. Allocates. */
  private byType(nodeType: Int32Array, prevIds: Int32Array, nPrev: number): Int32Array[] {
    const T = this.schema.nTypes;
    const counts = new Int32Array(T);
    for (let i = 0; i < nPrev; i++) counts[nodeType[prevIds[i]]]++;
    const out = Array.from({ length: T }, (_, t) => new Int32Array(counts[t]));
    counts.fill(0);
    for (let i = 0; i < nPrev; i++) {
      const t = nodeType[prevIds[i]];
      out[t][counts[t]++] = i;
    }
    return out;
  }

  /** Applies per-type layers `ls` to rows of X, by node type, into Y (nPrev × d). */
  private typedForward(ls: DenseLayer[], groups: Int32Array[], X: Float32Array, Y: Float32Array): void {
    const d = this.dim;
    groups.forEach((rows, t) => {
      if (rows.length === 0) return;
      const Xb = new Float32Array(rows.length * d);
      for (let r = 0; r < rows.length; r++) Xb.set(X.subarray(rows[r] * d, (rows[r] + 1) * d), r * d);
      const Yb = new Float32Array(rows.length * d);
      ls[t].forwardInto(Xb, rows.length, Yb);
      for (let r = 0; r < rows.length; r++) Y.set(Yb.subarray(r * d, (r + 1) * d), rows[r] * d);
    });
  }

  private typedBackward(
    ls: DenseLayer[],
    groups: Int32Array[],
    X: Float32Array,
    dY: Float32Array,
    dX: Float32Array,
  ): void {
    const d = this.dim;
    groups.forEach((rows, t) => {
      if (rows.length === 0) return;
      const Xb = new Float32Array(rows.length * d);
      const dYb = new Float32Array(rows.length * d);
      for (let r = 0; r < rows.length; r++) {
        Xb.set(X.subarray(rows[r] * d, (rows[r] + 1) * d), r * d);
        dYb.set(dY.subarray(rows[r] * d, (rows[r] + 1) * d), r * d);
      }
      const dXb = new Float32Array(rows.length * d);
      ls[t].backward(Xb, Xb, dYb, rows.length, dXb, false);
      for (let r = 0; r < rows.length; r++) {
        const o = rows[r] * d;
        for (let j = 0; j < d; j++) dX[o + j] += dXb[r * d + j];
      }
    });
  }

  /**
   * Layer forward: rows 0..n of prevIds (S_k, a prefix of S_(k−1) = prevIds) from Hprev
   * (nPrev × d) over `edges` (row u → local indices into S_(k−1)). Allocates the pass.
   */
  forward(
    nodeType: Int32Array,
    prevIds: Int32Array,
    nPrev: number,
    n: number,
    edges: LayerEdges,
    Hprev: Float32Array,
  ): TypedLayerPass {
    const d = this.dim;
    const sc = this.schema;
    const T = sc.nTypes;
    const mF = sc.maxFields;
    const Q = new Float32Array(n * d);
    const F = new Float32Array(n * mF * d);
    const S = new Float32Array(n * d);
    if (n > 0) {
      this.q.forwardInto(Hprev, n, Q);
      this.self.forwardInto(Hprev, n, S);
    }
    const groups = this.byType(nodeType, prevIds, nPrev);
    const Kp = new Float32Array(nPrev * d);
    const V = new Float32Array(nPrev * d);
    this.typedForward(this.k, groups, Hprev, Kp);
    this.typedForward(this.v, groups, Hprev, V);
    const alpha = new Float32Array(edges.indices.length);
    const mx = new Float64Array(mF);
    const zs = new Float64Array(mF);
    const scale = 1 / Math.sqrt(d);
    const Z = new Float32Array(n * d);
    const H = new Float32Array(n * d);
    const norms = new Float32Array(n);
    for (let u = 0; u < n; u++) {
      const tu = nodeType[prevIds[u]];
      const fo = u * mF * d;
      F.set(S.subarray(u * d, (u + 1) * d), fo);
      // e_v = q · k_v / √d, softmax within each neighbour type's group
      mx.fill(-Infinity);
      zs.fill(0);
      const a = edges.offsets[u];
      const b = edges.offsets[u + 1];
      for (let e = a; e < b; e++) {
        const v = edges.indices[e];
        let s = 0;
        for (let j = 0; j < d; j++) s += Q[u * d + j] * Kp[v * d + j];
        alpha[e] = s * scale;
        const sl = sc.slot[tu * T + nodeType[prevIds[v]]];
        if (alpha[e] > mx[sl]) mx[sl] = alpha[e];
      }
      for (let e = a; e < b; e++) {
        const sl = sc.slot[tu * T + nodeType[prevIds[edges.indices[e]]]];
        alpha[e] = Math.exp(alpha[e] - mx[sl]);
        zs[sl] += alpha[e];
      }
      // s_τ = Σ α_v v_v into field slot(τ)
      for (let e = a; e < b; e++) {
        const v = edges.indices[e];
        const sl = sc.slot[tu * T + nodeType[prevIds[v]]];
        alpha[e] /= zs[sl];
        const w = alpha[e];
        const o = fo + sl * d;
        for (let j = 0; j < d; j++) F[o + j] += w * V[v * d + j];
      }
      fmPoolInto(F, fo, mF, d, Z, u * d);
      let s = 0;
      for (let j = 0; j < d; j++) s += Z[u * d + j] * Z[u * d + j];
      const nr = Math.sqrt(s);
      norms[u] = nr;
      if (nr > 0) for (let j = 0; j < d; j++) H[u * d + j] = Z[u * d + j] / nr;
    }
    return { n, nPrev, prevIds, edges, Hprev, Q, Kp, V, alpha, F, Z, norms, H };
  }

  /** Backward from dH (n × d): accumulates the layer's gradients, returns dHprev (nPrev × d). */
  backward(nodeType: Int32Array, p: TypedLayerPass, dH: Float32Array): Float32Array {
    const d = this.dim;
    const sc = this.schema;
    const T = sc.nTypes;
    const mF = sc.maxFields;
    const { n, nPrev, prevIds, edges, Q, Kp, V, alpha, F } = p;
    const dHprev = new Float32Array(nPrev * d);
    const dQ = new Float32Array(n * d);
    const dS = new Float32Array(n * d);
    const dK = new Float32Array(nPrev * d);
    const dV = new Float32Array(nPrev * d);
    const dz = new Float32Array(d);
    const dF = new Float32Array(n * mF * d);
    const dAlpha = new Float32Array(edges.indices.length);
    const sums = new Float64Array(mF);
    const scale = 1 / Math.sqrt(d);
    for (let u = 0; u < n; u++) {
      const nr = p.norms[u];
      if (nr === 0) continue;
      // h = z/‖z‖ ⇒ dz = (dh − h (h·dh)) / ‖z‖
      let hd = 0;
      for (let j = 0; j < d; j++) hd += p.H[u * d + j] * dH[u * d + j];
      for (let j = 0; j < d; j++) dz[j] = (dH[u * d + j] - p.H[u * d + j] * hd) / nr;
      const fo = u * mF * d;
      fmPoolBackwardInto(F, fo, mF, d, dz, 0, dF);
      dS.set(dF.subarray(fo, fo + d), u * d);
      const tu = nodeType[prevIds[u]];
      const a = edges.offsets[u];
      const b = edges.offsets[u + 1];
      // dα_v = ds_τ · v_v;  dv_v += α_v ds_τ
      sums.fill(0);
      for (let e = a; e < b; e++) {
        const v = edges.indices[e];
        const o = fo + sc.slot[tu * T + nodeType[prevIds[v]]] * d;
        let s = 0;
        for (let j = 0; j < d; j++) {
          s += dF[o + j] * V[v * d + j];
          dV[v * d + j] += alpha[e] * dF[o + j];
        }
        dAlpha[e] = s;
        sums[sc.slot[tu * T + nodeType[prevIds[v]]]] += alpha[e] * s;
      }
      // de_v = α_v (dα_v − Σ_group α dα);  dq += de k_v / √d;  dk_v += de q / √d
      for (let e = a; e < b; e++) {
        const v = edges.indices[e];
        const de = alpha[e] * (dAlpha[e] - sums[sc.slot[tu * T + nodeType[prevIds[v]]]]) * scale;
        for (let j = 0; j < d; j++) {
          dQ[u * d + j] += de * Kp[v * d + j];
          dK[v * d + j] += de * Q[u * d + j];
        }
      }
    }
    if (n > 0) {
      this.q.backward(p.Hprev, Q, dQ, n, dHprev, true);
      this.self.backward(p.Hprev, Q, dS, n, dHprev, true);
    }
    const groups = this.byType(nodeType, prevIds, nPrev);
    this.typedBackward(this.k, groups, p.Hprev, dK, dHprev);
    this.typedBackward(this.v, groups, p.Hprev, dV, dHprev);
    return dHprev;
  }
}

export interface GraphTrOptions extends InitOptions, HeteroFieldOptions {
  /** Output and feature size. Default 64. */
  readonly dim?: number;
  /** Layers K. Default 2. */
  readonly layers?: number;
  /** Training: neighbours sampled per node, layer and neighbour type (all at inference). Default 10. */
  readonly fanout?: number;
}

type Side = GraphSideName;

export class GraphTrCore implements SharedGraphCore {
  readonly dim: number;
  readonly layers: number;
  graph: HeteroGraph | null = null;
  nodeType: Int32Array = new Int32Array(0);
  table: Float32Array = new Float32Array(0);
  convs: TypedAttentionFm[] = [];
  private sampler: NeighborSampler | null = null;
  private scratch: SubgraphScratch | null = null;
  private rows: RowGrads | null = null;
  private updater: RowUpdater | null = null;
  private rng: Rng | null = null;
  private readonly last = new Map<Side, { sub: Subgraph; passes: TypedLayerPass[] }>();
  private pending = 0;
  private data: unknown = null;

  constructor(private readonly o: GraphTrOptions = {}) {
    this.dim = o.dim ?? 64;
    this.layers = o.layers ?? 2;
    assert(
      Number.isInteger(this.dim) && this.dim >= 1,
      () => `graphTr: dim must be an integer ≥ 1, got ${this.dim}`,
    );
    assert(
      Number.isInteger(this.layers) && this.layers >= 1,
      () => `graphTr: layers must be ≥ 1, got ${this.layers}`,
    );
    const f = o.fanout ?? 10;
    assert(Number.isInteger(f) && f >= 1, () => `graphTr: fanout must be an integer ≥ 1, got ${f}`);
    checkInit(o, "graphTr");
  }

  prepare(ctx: EncoderContext, side: Side): void {
    checkSideRows("graphTr", side, ctx.nRows, ctx.data);
    if (this.data === ctx.data) return;
    this.data = ctx.data;
    this.prepareGraph(heteroGraphOf(ctx.data, this.o), ctx.rng);
    this.initParameters(ctx.rng);
    for (const c of this.convs) c.bind(ctx.optimizer);
    const N = (this.graph as HeteroGraph).nNodes;
    this.updater = ctx.optimizer.bind(this.table, N, this.dim, false);
  }

  /** Node types and the training neighbour sampler (also used by tests on hand-made graphs). */
  prepareGraph(g: HeteroGraph, rng: Rng, fanout = this.o.fanout ?? 10): void {
    this.graph = g;
    this.rng = rng;
    this.nodeType = nodeTypeArray(g);
    this.sampler = typedNeighbors(g, this.nodeType, fanout);
    this.scratch = new SubgraphScratch(g.nNodes, Math.max(this.sampler.max, 1));
    this.rows = new RowGrads(g.nNodes, this.dim);
  }

  initParameters(rng: Rng): void {
    const g = this.graph as HeteroGraph;
    this.table = new Float32Array(g.nNodes * this.dim);
    initInto(this.table, this.o, rng);
    const schema = fieldSchema(g);
    this.convs = Array.from({ length: this.layers }, () => new TypedAttentionFm(this.dim, schema, rng));
  }

  private run(sub: Subgraph): TypedLayerPass[] {
    const d = this.dim;
    const l0 = sub.layers[0];
    let H: Float32Array = new Float32Array(l0.length * d);
    for (let i = 0; i < l0.length; i++) H.set(this.table.subarray(l0[i] * d, (l0[i] + 1) * d), i * d);
    const passes: TypedLayerPass[] = [];
    for (let k = 1; k <= this.layers; k++) {
      const prev = sub.layers[k - 1];
      const p = this.convs[k - 1].forward(
        this.nodeType,
        prev,
        prev.length,
        sub.layers[k].length,
        sub.edges[k],
        H,
      );
      passes.push(p);
      H = p.H;
    }
    return passes;
  }

  /** Mini-batch forward of global node ids (typed subgraph sampled, Code 5-8); keeps the pass. */
  forwardNodesInto(side: Side, nodes: Int32Array, n: number, out: Float32Array): void {
    if (this.pending > 0) this.apply();
    const sub = sampleSubgraph(
      nodes,
      n,
      this.layers,
      this.sampler as NeighborSampler,
      this.rng as Rng,
      this.scratch as SubgraphScratch,
    );
    const passes = this.run(sub);
    const HK = passes[this.layers - 1].H;
    const d = this.dim;
    for (let i = 0; i < n; i++)
      out.set(HK.subarray(sub.targetIndex[i] * d, (sub.targetIndex[i] + 1) * d), i * d);
    this.last.set(side, { sub, passes });
  }

  forwardInto(side: Side, ids: Int32Array, n: number, out: Float32Array): void {
    this.forwardNodesInto(side, sideNodes(this.graph as HeteroGraph, side, ids, n), n, out);
  }

  backward(side: Side, _ids: Int32Array, n: number, dOut: Float32Array): void {
    const rec = this.last.get(side);
    assert(rec !== undefined, () => `graphTr.${side}: backward without a forward`);
    const d = this.dim;
    const { sub, passes } = rec;
    let dH: Float32Array = new Float32Array(sub.layers[this.layers].length * d);
    for (let i = 0; i < n; i++) {
      const o = sub.targetIndex[i] * d;
      for (let j = 0; j < d; j++) dH[o + j] += dOut[i * d + j];
    }
    for (let k = this.layers; k >= 1; k--) dH = this.convs[k - 1].backward(this.nodeType, passes[k - 1], dH);
    const rows = this.rows as RowGrads;
    const l0 = sub.layers[0];
    for (let i = 0; i < l0.length; i++) {
      const off = rows.offsetOf(l0[i]);
      const buf = rows.buf();
      for (let j = 0; j < d; j++) buf[off + j] += dH[i * d + j];
    }
    this.last.delete(side);
    if (++this.pending === 2) this.apply();
  }

  private apply(): void {
    (this.rows as RowGrads).flush(this.updater as RowUpdater);
    for (const c of this.convs) c.step();
    this.pending = 0;
  }

  /** Full-graph inference (every layer = all nodes, all neighbours): N × dim. Allocates. */
  inferAll(): Float32Array {
    if (this.pending > 0) this.apply();
    const g = this.graph as HeteroGraph;
    return this.run(fullSubgraph(g.adjacency, g.nNodes, this.layers))[this.layers - 1].H;
  }

  exportSide(side: Side): Float32Array {
    const g = this.graph as HeteroGraph;
    const t = sideType(side);
    const H = this.inferAll();
    return H.slice(g.typeOffsets[t] * this.dim, g.typeOffsets[t + 1] * this.dim);
  }

  parameters(): Float32Array[] {
    return [this.table, ...this.convs.flatMap((c) => c.parameters())];
  }
}

/** One side (users or items) of a GraphTR pair, as the framework's Encoder. */
export class GraphTrSide extends GraphSide<GraphTrCore> {
  constructor(core: GraphTrCore, side: Side) {
    super(core, side, "graphTr");
  }
}

/**
 * A GraphTR encoder pair (users, items) over one shared core.
 * @example const pair = graphTr({ fanout: 10, itemFields: ["genre"] });
 */
export function graphTr(o: GraphTrOptions = {}): {
  users: GraphTrSide;
  items: GraphTrSide;
  core: GraphTrCore;
} {
  const core = new GraphTrCore(o);
  return { core, users: new GraphTrSide(core, "users"), items: new GraphTrSide(core, "items") };
}
