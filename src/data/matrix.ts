/** Interaction logs as sparse matrices: the CSR views every model and the evaluator start from. */
import { buildCsr, type Csr, type Duplicates, transposeCsr } from "../math/csr.ts";
import type { Interactions } from "../types.ts";

export interface MatrixOptions {
  /** "binary": every (user, item) is 1 (default); "weight": use interaction weights (null weights count 1). */
  readonly values?: "binary" | "weight";
  /** How repeated (user, item) rows combine when values = "weight" (default "sum"). */
  readonly duplicates?: Duplicates;
}

/** user → items matrix (nUsers × nItems), rows sorted by item. */
export function userItemCsr(
  log: Interactions,
  nUsers: number,
  nItems: number,
  opts: MatrixOptions = {},
): Csr {
  if ((opts.values ?? "binary") === "binary")
    return buildCsr(nUsers, nItems, log.users, log.items, null, "one");
  const w = log.weights ?? new Float32Array(log.length).fill(1);
  return buildCsr(nUsers, nItems, log.users, log.items, w, opts.duplicates ?? "sum");
}

/** item → users matrix (nItems × nUsers). */
export function itemUserCsr(
  log: Interactions,
  nUsers: number,
  nItems: number,
  opts: MatrixOptions = {},
): Csr {
  return transposeCsr(userItemCsr(log, nUsers, nItems, opts));
}
