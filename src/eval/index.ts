/** Evaluation (DESIGN §5): full-ranking accuracy and beyond-accuracy metrics. */

export {
  type ChannelReport,
  type EvaluateChannelsOptions,
  evaluateChannels,
  recommendAll,
  testUsers,
} from "./channels.ts";
export type { EvalOptions, EvalReport } from "./evaluate.ts";
export { evaluate, evaluateEmbeddings, evaluateTopK } from "./evaluate.ts";
