import { assert } from "../errors.ts";
import type { Rng } from "../math/rng.ts";

export interface InitOptions {
  /** "normal" N(0, scale²) (default) or "uniform" U(−scale, scale). */
  readonly init?: "normal" | "uniform";
  /** Default 0.1. */
  readonly scale?: number;
}

export function checkInit(o: InitOptions, who: string): void {
  assert(
    o.init === undefined || o.init === "normal" || o.init === "uniform",
    () => `${who}: init must be "normal" or "uniform", got "${o.init}"`,
  );
  assert(
    o.scale === undefined || (o.scale >= 0 && Number.isFinite(o.scale)),
    () => `${who}: scale must be ≥ 0, got ${o.scale}`,
  );
}

/** Fills x with the chosen initial distribution from rng. */
export function initInto(x: Float32Array, o: InitOptions, rng: Rng): void {
  const s = o.scale ?? 0.1;
  if ((o.init ?? "normal") === "normal") for (let e = 0; e < x.length; e++) x[e] = s * rng.normal();
  else for (let e = 0; e < x.length; e++) x[e] = s * (2 * rng.next() - 1);
}

/** A Float32Array of n values, in a SharedArrayBuffer when `shared`. */
export function allocF32(n: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
}
