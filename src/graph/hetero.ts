/**
 * Heterogeneous graph (spec §5.6.3): typed nodes — user, item, and one type per attribute field
 * (`item:genre`, `user:occupation`, …, one node per attribute value) — and typed edges, one
 * relation per (source type, target type) in both directions: user→item / item→user from the
 * interactions, item→item:genre / item:genre→item from item attributes, likewise for users.
 * Every relation is its own CSR in local ids (MultiBiSage: one bipartite graph per relation);
 * `adjacency` is their union over global node ids with the relation of each edge in `edgeTypes`
 * (GraphTR groups a node's neighbours by type from it). Global id = typeOffsets[t] + local id.
 */
import { assert } from "../errors.ts";
import { buildCsr, type Csr, transposeCsr } from "../math/csr.ts";
import type { AttributeField, AttributeTable, Interactions } from "../types.ts";

export interface Relation {
  /** "user->item", "item->item:genre", … */
  readonly name: string;
  readonly src: number;
  readonly dst: number;
  /** nRows = nodes of type src, nCols = nodes of type dst (local ids), values = counts or null. */
  readonly csr: Csr;
}

export interface HeteroGraph {
  readonly nodeTypes: readonly string[];
  /** Node-type t owns global ids [typeOffsets[t], typeOffsets[t + 1]). */
  readonly typeOffsets: Int32Array;
  readonly nNodes: number;
  readonly relations: readonly Relation[];
  /** Union of all relations over global ids, rows sorted by neighbour id. */
  readonly adjacency: Csr;
  /** Relation index of each stored edge of `adjacency` (same layout as its indices). */
  readonly edgeTypes: Int32Array;
}

export interface HeteroGraphSource {
  readonly nUsers: number;
  readonly nItems: number;
  readonly train: Interactions;
  readonly itemAttributes?: AttributeTable;
  readonly userAttributes?: AttributeTable;
}

export interface HeteroGraphOptions {
  /** Item attribute fields that become node types. Default: all. */
  readonly itemFields?: readonly string[];
  /** User attribute fields that become node types. Default: all. */
  readonly userFields?: readonly string[];
}

/** Node type index by name (throws with the known names when absent). */
export function nodeTypeIndex(g: HeteroGraph, name: string): number {
  const t = g.nodeTypes.indexOf(name);
  assert(t >= 0, () => `hetero graph: no node type "${name}"; types are ${g.nodeTypes.join(", ")}`);
  return t;
}

/** Node type of global node v (binary search over typeOffsets). */
export function nodeTypeOf(g: HeteroGraph, v: number): number {
  let lo = 0;
  let hi = g.nodeTypes.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (g.typeOffsets[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Builds the typed graph from interactions and attribute tables. Allocates.
 * @example const g = buildHeteroGraph({ nUsers: data.users.size, nItems: data.items.size, train: data.train, itemAttributes: data.itemAttributes });
 */
export function buildHeteroGraph(s: HeteroGraphSource, o: HeteroGraphOptions = {}): HeteroGraph {
  const types = ["user", "item"];
  const sizes = [s.nUsers, s.nItems];
  const pairs: { src: number; dst: number; csr: Csr }[] = [];
  const ui = buildCsr(s.nUsers, s.nItems, s.train.users, s.train.items, null, "one");
  pairs.push({ src: 0, dst: 1, csr: ui });
  const addFields = (
    owner: number,
    table: AttributeTable | undefined,
    fields: readonly string[] | undefined,
  ) => {
    const t = table ?? new Map<string, AttributeField>();
    const names = fields ?? [...t.keys()];
    for (const f of names) {
      const field = t.get(f);
      assert(
        field !== undefined,
        () =>
          `buildHeteroGraph: no ${types[owner]} attribute "${f}"; known: ${[...t.keys()].join(", ") || "(none)"}`,
      );
      assert(
        field.csr.nRows === sizes[owner],
        () =>
          `buildHeteroGraph: ${types[owner]} attribute "${f}" has ${field.csr.nRows} rows, expected ${sizes[owner]}`,
      );
      types.push(`${types[owner]}:${f}`);
      sizes.push(field.csr.nCols);
      pairs.push({ src: owner, dst: types.length - 1, csr: { ...field.csr, values: null } });
    }
  };
  addFields(1, s.itemAttributes, o.itemFields);
  addFields(0, s.userAttributes, o.userFields);
  const typeOffsets = new Int32Array(types.length + 1);
  for (let t = 0; t < types.length; t++) typeOffsets[t + 1] = typeOffsets[t] + sizes[t];
  const relations: Relation[] = [];
  for (const p of pairs) {
    relations.push({ name: `${types[p.src]}->${types[p.dst]}`, src: p.src, dst: p.dst, csr: p.csr });
    relations.push({
      name: `${types[p.dst]}->${types[p.src]}`,
      src: p.dst,
      dst: p.src,
      csr: transposeCsr(p.csr),
    });
  }
  let nnz = 0;
  for (const r of relations) nnz += r.csr.indices.length;
  const rows = new Int32Array(nnz);
  const cols = new Int32Array(nnz);
  const rel = new Float32Array(nnz);
  let w = 0;
  relations.forEach((r, k) => {
    const a = typeOffsets[r.src];
    const b = typeOffsets[r.dst];
    for (let i = 0; i < r.csr.nRows; i++)
      for (let e = r.csr.offsets[i]; e < r.csr.offsets[i + 1]; e++) {
        rows[w] = a + i;
        cols[w] = b + r.csr.indices[e];
        rel[w++] = k;
      }
  });
  const N = typeOffsets[types.length];
  // Relations connect distinct type pairs, so (row, col) pairs are unique: "last" keeps the type.
  const adj = buildCsr(N, N, rows, cols, rel, "last");
  const edgeTypes = Int32Array.from(adj.values as Float32Array);
  return {
    nodeTypes: types,
    typeOffsets,
    nNodes: N,
    relations,
    adjacency: { ...adj, values: null },
    edgeTypes,
  };
}
