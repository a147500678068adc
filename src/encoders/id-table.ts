import { assert } from "../errors.ts";
import { allocF32, checkInit, type InitOptions, initInto } from "./init.ts";
import { RowGrads } from "./row-grads.ts";
import type { TableStart } from "./spectral-init.ts";
import type { Encoder, EncoderContext, RowUpdater } from "./types.ts";

export interface IdTableOptions extends InitOptions {
  /** Vector size. Default 64. */
  readonly dim?: number;
  /** Overwrites rows of the random start (e.g. `spectralStart`, spectral-init.ts). */
  readonly start?: TableStart;
}

/**
 * ID embedding table (spec §5.3.1 "没有采用模型，只是定义了一个待学习的矩阵 V"): entity e's vector is
 * row e of a Float32Array (a SharedArrayBuffer under Hogwild). Backward sums each touched row's
 * gradient and applies the sparse optimizer to those rows only.
 */
export class IdTable implements Encoder {
  readonly name: string;
  readonly dim: number;
  table: Float32Array = new Float32Array(0);
  private nRows = 0;
  private grads: RowGrads | null = null;
  private updater: RowUpdater | null = null;

  constructor(private readonly o: IdTableOptions = {}) {
    this.dim = o.dim ?? 64;
    assert(
      Number.isInteger(this.dim) && this.dim >= 1,
      () => `encoders.idTable: dim must be an integer ≥ 1, got ${this.dim}`,
    );
    checkInit(o, "encoders.idTable");
    this.name = `idTable(${this.dim})`;
  }

  prepare(ctx: EncoderContext): void {
    this.nRows = ctx.nRows;
    this.table = allocF32(ctx.nRows * this.dim, ctx.sharedMemory);
    initInto(this.table, this.o, ctx.rng);
    this.o.start?.(ctx, this.table, this.dim);
    this.grads = new RowGrads(ctx.nRows, this.dim);
    this.updater = ctx.optimizer.bind(this.table, ctx.nRows, this.dim, ctx.sharedMemory);
  }

  forwardInto(ids: Int32Array, n: number, out: Float32Array): void {
    const d = this.dim;
    const t = this.table;
    for (let i = 0; i < n; i++) {
      const o = ids[i] * d;
      for (let j = 0; j < d; j++) out[i * d + j] = t[o + j];
    }
  }

  backward(ids: Int32Array, n: number, dOut: Float32Array): void {
    const g = this.grads as RowGrads;
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      const off = g.offsetOf(ids[i]);
      const buf = g.buf();
      for (let j = 0; j < d; j++) buf[off + j] += dOut[i * d + j];
    }
    g.flush(this.updater as RowUpdater);
  }

  exportAll(): Float32Array {
    return this.table.slice(0, this.nRows * this.dim);
  }

  parameters(): Float32Array[] {
    return [this.table];
  }
}

/** @example encoders.idTable({ dim: 64, init: "normal", scale: 0.1 }) */
export function idTable(o: IdTableOptions = {}): IdTable {
  return new IdTable(o);
}
