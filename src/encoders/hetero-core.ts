/**
 * Pieces shared by the heterogeneous GCN encoders (spec §5.6.3; encoders/multibisage.ts,
 * encoders/graphtr.ts): the typed graph of a dataset (graph/hetero.ts: users, items and one node
 * type per attribute field), the global node of a user or item, the node type of every node, and
 * the whole graph as a "subgraph" whose every layer is all nodes (full-graph inference runs the
 * same code as a mini-batch, Code 5-10..5-12).
 */
import { assert } from "../errors.ts";
import { buildHeteroGraph, type HeteroGraph } from "../graph/hetero.ts";
import { type LayerEdges, rowNormalizedWeights, type Subgraph } from "../graph/subgraph.ts";
import type { Csr } from "../math/csr.ts";
import type { Dataset } from "../types.ts";
import type { GraphSideName } from "./graph-side.ts";

export interface HeteroFieldOptions {
  /**
   * Item attribute fields that become node types (e.g. ["genre"]). Default: every item attribute
   * of the dataset. A comma-separated string is accepted (configs, the CLI); "" or [] = none.
   */
  readonly itemFields?: readonly string[] | string;
  /** User attribute fields that become node types (e.g. ["age", "gender", "occupation"]). Default: all. */
  readonly userFields?: readonly string[] | string;
}

function fieldList(x: readonly string[] | string | undefined): string[] | undefined {
  if (x === undefined) return undefined;
  return typeof x === "string" ? x.split(",").filter((s) => s !== "") : [...x];
}

/** The typed graph of a dataset's training interactions and attribute tables. Allocates. */
export function heteroGraphOf(d: Dataset, o: HeteroFieldOptions): HeteroGraph {
  const itemFields = fieldList(o.itemFields);
  const userFields = fieldList(o.userFields);
  return buildHeteroGraph(
    {
      nUsers: d.users.size,
      nItems: d.items.size,
      train: d.train,
      itemAttributes: d.itemAttributes,
      userAttributes: d.userAttributes,
    },
    {
      ...(itemFields === undefined ? {} : { itemFields }),
      ...(userFields === undefined ? {} : { userFields }),
    },
  );
}

/** Node type index of a side: users are type 0, items type 1 (graph/hetero.ts). */
export function sideType(side: GraphSideName): number {
  return side === "users" ? 0 : 1;
}

/** Global node ids of `ids[0..n)` of one side. Allocates. */
export function sideNodes(g: HeteroGraph, side: GraphSideName, ids: Int32Array, n: number): Int32Array {
  const base = g.typeOffsets[sideType(side)];
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = base + ids[i];
  return out;
}

/** Checks the encoder context's row count against the dataset's users or items. */
export function checkSideRows(who: string, side: GraphSideName, nRows: number, d: Dataset): void {
  const expect = side === "users" ? d.users.size : d.items.size;
  assert(
    nRows === expect,
    () =>
      `${who}.${side}: the positives give ${nRows} rows but the dataset has ${expect} ${side}; use positives.userItem()`,
  );
}

/** Node type of every global node. Allocates. */
export function nodeTypeArray(g: HeteroGraph): Int32Array {
  const out = new Int32Array(g.nNodes);
  for (let t = 0; t < g.nodeTypes.length; t++) out.fill(t, g.typeOffsets[t], g.typeOffsets[t + 1]);
  return out;
}

/**
 * All N nodes in every layer over fixed neighbourhoods `nb` (rows weighted by `values`, or
 * uniformly, normalised to sum 1): the mini-batch code path then computes full-graph inference,
 * each node's layer-k state once. Allocates.
 */
export function fullSubgraph(nb: Csr, N: number, K: number): Subgraph {
  const weights = rowNormalizedWeights(nb, N);
  const all = Int32Array.from({ length: N }, (_, v) => v);
  const edges: LayerEdges = { offsets: nb.offsets, indices: nb.indices, weights };
  const empty: LayerEdges = {
    offsets: new Int32Array(1),
    indices: new Int32Array(0),
    weights: new Float32Array(0),
  };
  return {
    layers: Array.from({ length: K + 1 }, () => all),
    edges: [empty, ...Array.from({ length: K }, () => edges)],
    targetIndex: all,
  };
}
