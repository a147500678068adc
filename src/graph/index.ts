/** Graph utilities (DESIGN §2): the session item graph, per-node alias tables, weighted walks. */
export {
  buildItemGraph,
  type ItemGraph,
  type ItemGraphOptions,
  randomWalks,
  stepFrom,
  transitionProbabilities,
  type WalkOptions,
} from "./item-graph.ts";
