import { assert } from "../../errors.ts";

export function checkRate(who: string, lr: number, l2: number): void {
  assert(lr > 0 && Number.isFinite(lr), () => `optimizers.${who}: lr must be a finite number > 0, got ${lr}`);
  assert(l2 >= 0 && Number.isFinite(l2), () => `optimizers.${who}: l2 must be ≥ 0, got ${l2}`);
}

/** A zeroed Float32Array of n values, shared when asked (Hogwild state lives beside the table). */
export function state(n: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
}
