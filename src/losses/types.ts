/**
 * The loss dimension (spec §5.2.4). A loss sees only the nQ × nC score matrix of one batch
 * (TFRS `tasks/retrieval.py`): row i is one query, column `labels[i]` holds its positive and every
 * other column a negative. Transforms (temperature, −log Q, accidental hits) rewrite the scores
 * before the loss and the gradient after it (TFRS `layers/loss.py`), so in-batch softmax, sampled
 * softmax, NCE and NEG are one kernel plus a list of transforms plus a negatives choice.
 */

/** What a loss or transform asks the trainer to fill in `ScoreContext`. */
/** Score buffers: Float32Array in training; Float64Array lets tests check gradients exactly. */
export type Scores = Float32Array | Float64Array;

export interface LossNeeds {
  /** `ctx.logQ`: log Q(t) of every score cell (the sampler's `logQInto`). */
  readonly logQ?: true;
  /** `ctx.candIds`: the item id behind every score cell. */
  readonly candidateIds?: true;
}

/** Everything about a batch's score matrix except the scores themselves. */
export interface ScoreContext {
  readonly nQ: number;
  readonly nC: number;
  /** labels[i] = column of row i's positive. */
  readonly labels: Int32Array;
  /** posIds[i] = item id of row i's positive (for accidental-hit removal). */
  readonly posIds: Int32Array;
  /** nQ·nC item ids, row-major, when `needs.candidateIds`; else null. */
  readonly candIds: Int32Array | null;
  /** nQ·nC values of log Q(t), row-major, when `needs.logQ`; else null. */
  readonly logQ: Float32Array | null;
}

/**
 * A rewrite of the score matrix. `forward` changes scores in place; `backward` maps
 * dL/d(new scores) to dL/d(old scores) in place. Both run only in training: serving is plain
 * dot/cosine (spec §5.2.4, "修正只发生在训练阶段").
 */
export interface ScoreTransform {
  readonly name: string;
  readonly needs: LossNeeds;
  forward(scores: Scores, ctx: ScoreContext): void;
  backward(dScores: Scores, ctx: ScoreContext): void;
}

/**
 * For pairwise losses on one (positive, negative) pair: the loss ℓ(x) of the margin
 * x = s⁺ − s⁻ and its derivative. Lets the trainer dispatch to a fused per-triple kernel
 * (structural: any loss that declares it qualifies, whatever its name).
 */
export interface PairwiseForm {
  /** Writes [ℓ(x), dℓ/dx] into out[0], out[1]. */
  lossAndGrad(x: number, out: Float64Array): void;
  /**
   * How to rebuild this loss in a worker thread (functions cannot be posted): the module URL, the
   * factory's export name and its options. Absent: the fused kernel runs in-process only.
   */
  readonly source?: { readonly url: string; readonly factory: string; readonly options: unknown };
}

export interface Loss {
  readonly name: string;
  readonly needs: LossNeeds;
  readonly transforms: readonly ScoreTransform[];
  /** "mean" over rows (default, the spec's 1/|B|) or "sum" (per-sample SGD as in BPR/word2vec). */
  readonly reduction: "mean" | "sum";
  /** Present when the loss is a sum of independent pairwise terms ℓ(s⁺ − s⁻) with no transforms. */
  readonly pairwise: PairwiseForm | null;
  /**
   * Applies the transforms, computes the loss and writes dL/dscores (w.r.t. the scores as given,
   * i.e. through the transforms) into dScores. `scores` is modified in place. Returns the loss.
   */
  forwardBackward(scores: Scores, ctx: ScoreContext, dScores: Scores): number;
}

/** The pure kernel of a loss: no transforms, a plain score matrix with labels. Returns Σ over rows. */
export type LossKernel = (
  scores: Scores,
  nQ: number,
  nC: number,
  labels: Int32Array,
  dScores: Scores,
) => number;
