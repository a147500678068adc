/**
 * Graph utilities (DESIGN §2): the session item graph with per-node alias tables and weighted walks
 * (EGES); the user–item bipartite graph with symmetric normalisation, the item–item
 * co-engagement graph and the typed heterogeneous graph (GCN recall, spec §5.6); SpMM and
 * layer-combined propagation.
 */
export {
  type AttributeGraphOptions,
  attributeGraphSize,
  buildAttributeGraph,
} from "./attribute-nodes.ts";
export {
  type BipartiteGraph,
  buildBipartiteGraph,
  itemNode,
  symmetricNormalizedValues,
} from "./bipartite.ts";
export {
  buildHeteroGraph,
  type HeteroGraph,
  type HeteroGraphOptions,
  type HeteroGraphSource,
  nodeTypeIndex,
  nodeTypeOf,
  type Relation,
} from "./hetero.ts";
export {
  buildItemGraph,
  type ItemGraph,
  type ItemGraphOptions,
  randomWalks,
  stepFrom,
  transitionProbabilities,
  type WalkOptions,
} from "./item-graph.ts";
export { buildItemItemGraph, type ItemItemGraphOptions } from "./item-item.ts";
export { Propagation, type PropagationGraph, type PropagationOptions } from "./propagate.ts";
