/**
 * User–item graph with item attribute values as extra nodes (spec §5.6: features as graph nodes,
 * e.g. ML-100k genres): nodes are users 0..nUsers−1, items nUsers..nUsers+nItems−1, then one node
 * per value of each attribute field (field after field, in vocabulary order). Edges: user–item
 * interactions and item–value pairs, both directions, binary, with the same symmetric
 * normalisation as `buildBipartiteGraph`. A GCN over it gives an item a vector from its values'
 * nodes and its users even when the item has no trained ID feature — the inductive case
 * (Hamilton et al. 2017): items withheld from training join the graph at inference with their
 * attribute edges and their interactions.
 */
import { assert } from "../errors.ts";
import type { AttributeField, Interactions } from "../types.ts";
import { type BipartiteGraph, interactionEdgesInto, symmetricGraph } from "./bipartite.ts";

export interface AttributeGraphOptions {
  /** Item attribute fields whose values become nodes (default none: the plain bipartite graph). */
  readonly fields?: readonly AttributeField[];
  /**
   * Items whose attribute edges are added (default: every item). Training graphs pass "items with
   * at least one interaction", so an item withheld from training is absent from it entirely.
   */
  readonly include?: (item: number) => boolean;
}

/** Number of nodes of the graph `buildAttributeGraph` builds. */
export function attributeGraphSize(
  nUsers: number,
  nItems: number,
  fields: readonly AttributeField[],
): number {
  let n = nUsers + nItems;
  for (const f of fields) n += f.vocab.size;
  return n;
}

/**
 * Builds the graph (nNodes = nUsers + nItems + Σ vocabulary sizes; `nUsers`/`nItems` as in the
 * bipartite graph, so item i is still node nUsers + i). Allocates.
 * @example const g = buildAttributeGraph(data.train, nU, nI, { fields: [data.itemAttributes.get("genre")!] });
 */
export function buildAttributeGraph(
  x: Interactions,
  nUsers: number,
  nItems: number,
  o: AttributeGraphOptions = {},
): BipartiteGraph {
  const fields = o.fields ?? [];
  const include = o.include ?? (() => true);
  let nPairs = 0;
  for (const f of fields) {
    assert(
      f.csr.nRows === nItems,
      () => `buildAttributeGraph: attribute "${f.name}" has ${f.csr.nRows} rows, expected ${nItems} items`,
    );
    for (let i = 0; i < nItems; i++) if (include(i)) nPairs += f.csr.offsets[i + 1] - f.csr.offsets[i];
  }
  const n = x.length;
  const m = n + nPairs;
  const rows = new Int32Array(2 * m);
  const cols = new Int32Array(2 * m);
  interactionEdgesInto(x, nUsers, nItems, rows, cols, "buildAttributeGraph");
  let k = n;
  let base = nUsers + nItems;
  for (const f of fields) {
    for (let i = 0; i < nItems; i++) {
      if (!include(i)) continue;
      for (let e = f.csr.offsets[i]; e < f.csr.offsets[i + 1]; e++) {
        rows[k] = nUsers + i;
        cols[k] = base + f.csr.indices[e];
        k++;
      }
    }
    base += f.vocab.size;
  }
  return symmetricGraph(rows, cols, m, nUsers, nItems, base);
}
