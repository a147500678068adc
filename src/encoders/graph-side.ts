/**
 * Graph encoders keep one core (embedding table, graph, dense layers) shared by both towers of a
 * recipe; each tower is a thin view of one side of it. This is that view, for every graph encoder.
 */
import type { EncoderContext, GraphEncoder } from "./types.ts";

export type GraphSideName = "users" | "items";

/** What a shared graph core offers each of its two sides. */
export interface SharedGraphCore {
  readonly dim: number;
  readonly layers: number;
  prepare(ctx: EncoderContext, side: GraphSideName): void;
  forwardInto(side: GraphSideName, ids: Int32Array, n: number, out: Float32Array): void;
  backward(side: GraphSideName, ids: Int32Array, n: number, dOut: Float32Array): void;
  exportSide(side: GraphSideName): Float32Array;
  parameters(): Float32Array[];
}

/** One side (users or items) of a shared graph core, as the framework's Encoder. */
export class GraphSide<C extends SharedGraphCore> implements GraphEncoder {
  readonly name: string;
  readonly dim: number;
  readonly hops: number;
  readonly table = null;

  constructor(
    readonly core: C,
    readonly side: GraphSideName,
    kind: string,
  ) {
    this.dim = core.dim;
    this.hops = core.layers;
    this.name = `${kind}.${side}(${core.dim}, K=${core.layers})`;
  }

  prepare(ctx: EncoderContext): void {
    this.core.prepare(ctx, this.side);
  }

  forwardInto(ids: Int32Array, n: number, out: Float32Array): void {
    this.core.forwardInto(this.side, ids, n, out);
  }

  backward(ids: Int32Array, n: number, dOut: Float32Array): void {
    this.core.backward(this.side, ids, n, dOut);
  }

  exportAll(): Float32Array {
    return this.core.exportSide(this.side);
  }

  parameters(): Float32Array[] {
    return this.core.parameters();
  }
}
