/**
 * Item–item co-engagement graph: w_ij = number of users who engaged with both i and j (AᵀA off
 * its diagonal, A the binary user × item matrix), each row cut to its `topT` heaviest neighbours.
 * A plain graph for item-only GCNs (GraphSAGE over items, spec §5.6.1); PinSage's importance
 * neighbours come from random walks instead (random-walk.ts).
 */
import { assert } from "../errors.ts";
import { buildCsr, type Csr, transposeCsr } from "../math/csr.ts";
import type { Interactions } from "../types.ts";

export interface ItemItemGraphOptions {
  /** Neighbours kept per item (heaviest first). Default 50. */
  readonly topT?: number;
  /** Users with more items than this are skipped (their pairs are quadratic). Default 500. */
  readonly maxUserItems?: number;
}

/** Builds the top-T co-engagement graph (values = counts, rows sorted by item id). Allocates. */
export function buildItemItemGraph(
  x: Interactions,
  nUsers: number,
  nItems: number,
  o: ItemItemGraphOptions = {},
): Csr {
  const T = o.topT ?? 50;
  const cap = o.maxUserItems ?? 500;
  assert(Number.isInteger(T) && T >= 1, () => `buildItemItemGraph: topT must be an integer ≥ 1, got ${T}`);
  const ui = buildCsr(nUsers, nItems, x.users, x.items, null, "one");
  const iu = transposeCsr(ui);
  const acc = new Float64Array(nItems);
  const touched = new Int32Array(nItems);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  const order = new Int32Array(nItems);
  for (let i = 0; i < nItems; i++) {
    let nt = 0;
    for (let e = iu.offsets[i]; e < iu.offsets[i + 1]; e++) {
      const u = iu.indices[e];
      const a = ui.offsets[u];
      const b = ui.offsets[u + 1];
      if (b - a > cap) continue;
      for (let f = a; f < b; f++) {
        const j = ui.indices[f];
        if (j === i) continue;
        if (acc[j] === 0) touched[nt++] = j;
        acc[j]++;
      }
    }
    for (let t = 0; t < nt; t++) order[t] = touched[t];
    const row = order.subarray(0, nt).sort((p, q) => acc[q] - acc[p] || p - q);
    const keep = Math.min(T, nt);
    for (let t = 0; t < keep; t++) {
      rows.push(i);
      cols.push(row[t]);
      vals.push(acc[row[t]]);
    }
    for (let t = 0; t < nt; t++) acc[touched[t]] = 0;
  }
  return buildCsr(
    nItems,
    nItems,
    Int32Array.from(rows),
    Int32Array.from(cols),
    Float32Array.from(vals),
    "sum",
  );
}
