/**
 * One error class with a code table (fastify's FST_ERR_* idea). Messages say what was found,
 * what was expected and, for data, where (`file:line`, field).
 */
export const ErrorCodes = {
  RK_ERR_DATA_PARSE: "a row of an input file could not be parsed",
  RK_ERR_DATA_MISSING_COLUMN: "a declared column is missing from the input header",
  RK_ERR_DATA_EMPTY: "an input file holds no rows",
  RK_ERR_DATASET_UNKNOWN: "a dataset name could not be resolved to a folder",
  RK_ERR_INVALID_ARGUMENT: "an argument or option is out of range or of the wrong type",
  RK_ERR_ARTIFACT: "a model artifact is missing, corrupt or of another type",
  RK_ERR_NOT_FITTED: "a model was used before fit() or load()",
  RK_ERR_CONFIG: "a configuration file is invalid",
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class RecallkitError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RecallkitError";
    this.code = code;
  }
}

/** Validates at a public boundary; the message is built lazily so hot callers pay nothing. */
export function assert(
  cond: unknown,
  msg: () => string,
  code: ErrorCode = "RK_ERR_INVALID_ARGUMENT",
): asserts cond {
  if (!cond) throw new RecallkitError(code, msg());
}

/** Error for one bad field of one row of a file: `file:line: field "x": message`. */
export function dataError(file: string, line: number, field: string, message: string): RecallkitError {
  return new RecallkitError("RK_ERR_DATA_PARSE", `${file}:${line}: field "${field}": ${message}`);
}
