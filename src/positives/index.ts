/** `positives.*` factories (spec §5.2.1): U2I, I2I (skip-gram window, session pairs), U2U, any pairs. */
export { type PairsOptions, pairs } from "./pairs.ts";
export {
  type Sequences,
  type SessionPairsOptions,
  type SkipGramOptions,
  sequencesOf,
  sessionPairs,
  skipGram,
} from "./sequences.ts";
export { keepProbabilities } from "./subsample.ts";
export type { PairBatch, PositiveInfo, PositiveSource } from "./types.ts";
export { type UserItemOptions, userItem } from "./user-item.ts";
export { type UserSplitOptions, userSplit } from "./user-split.ts";
