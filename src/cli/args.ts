/** Argument helpers shared by the CLI commands (node:util parseArgs underneath). */
import { type ParseArgsConfig, parseArgs } from "node:util";

export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

import { RecallkitError } from "../errors.ts";

export type Flags = Record<string, string | boolean | string[] | undefined>;

export const commonOptions = {
  json: { type: "boolean" },
  "data-dir": { type: "string" },
  "skip-bad-rows": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

export function parse<const O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
): ReturnType<
  typeof parseArgs<{
    args: string[];
    options: typeof commonOptions & O;
    allowPositionals: true;
    strict: true;
  }>
> {
  try {
    const all = { ...commonOptions, ...options } as typeof commonOptions & O;
    return parseArgs({ args: argv, options: all, allowPositionals: true, strict: true });
  } catch (err) {
    throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", (err as Error).message);
  }
}

/** "a=1" → ["a", 1]; values are JSON when they parse as JSON, else strings. */
export function parseParam(s: string): [string, unknown] {
  const eq = s.indexOf("=");
  if (eq <= 0) throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `--param "${s}": expected key=value`);
  const key = s.slice(0, eq);
  const raw = s.slice(eq + 1);
  try {
    return [key, JSON.parse(raw)];
  } catch {
    return [key, raw];
  }
}

/**
 * Splits `--param` values among models: "itemcf.neighbors=200" targets one model; a bare
 * "neighbors=200" is allowed only when one model is named.
 */
export function paramsFor(
  models: readonly string[],
  params: readonly string[],
): Map<string, Record<string, unknown>> {
  const out = new Map(models.map((m) => [m, {} as Record<string, unknown>]));
  for (const p of params) {
    const [key, value] = parseParam(p);
    const dot = key.indexOf(".");
    const target = dot > 0 && out.has(key.slice(0, dot)) ? key.slice(0, dot) : null;
    if (target !== null) (out.get(target) as Record<string, unknown>)[key.slice(dot + 1)] = value;
    else if (models.length === 1) (out.get(models[0]) as Record<string, unknown>)[key] = value;
    else
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `--param "${p}": with several models, prefix the key with the model name (e.g. ${models[0]}.${key}=...)`,
      );
  }
  return out;
}

/** "20,100" → [20, 100]. */
export function parseKs(s: string | undefined, fallback: number[]): number[] {
  if (s === undefined) return fallback;
  const ks = s.split(",").map(Number);
  if (ks.some((k) => !Number.isInteger(k) || k <= 0))
    throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `--k "${s}": expected positive integers like 20,100`);
  return ks;
}

export function print(json: boolean, obj: unknown, text: string): void {
  console.log(json ? JSON.stringify(obj) : text);
}
