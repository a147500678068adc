/**
 * Attribute tables (entity → values as CSR over a value vocabulary), item statistics with CTR
 * smoothing (spec §5.1.1), and popularity counts.
 */
import { assert } from "../errors.ts";
import { buildCsr } from "../math/csr.ts";
import type { AttributeField, AttributeTable, Interactions, ItemStats } from "../types.ts";
import { IdMap } from "./id-map.ts";

/**
 * Collects (entity, value) pairs for one attribute. Single-valued fields keep the last value
 * given for an entity; multi-valued fields keep each distinct value once (sorted by value index).
 */
export class AttributeBuilder {
  readonly vocab = new IdMap();
  private ents: Int32Array = new Int32Array(256);
  private vals: Int32Array = new Int32Array(256);
  private n = 0;

  constructor(
    readonly name: string,
    readonly multi: boolean,
  ) {}

  /** Adds value `value` to entity `entity` (empty values are ignored). */
  add(entity: number, value: string): void {
    if (value.length === 0) return;
    if (this.n === this.ents.length) {
      const e = new Int32Array(this.n * 2);
      e.set(this.ents);
      this.ents = e;
      const v = new Int32Array(this.n * 2);
      v.set(this.vals);
      this.vals = v;
    }
    this.ents[this.n] = entity;
    this.vals[this.n] = this.vocab.add(value);
    this.n++;
  }

  /** The field for entities [0, nEntities); pairs with entity outside that range are an error. */
  build(nEntities: number): AttributeField {
    let rows = this.ents.subarray(0, this.n);
    let cols = this.vals.subarray(0, this.n);
    if (!this.multi) {
      // Last value wins: keep one pair per entity.
      const last = new Int32Array(nEntities).fill(-1);
      for (let k = 0; k < this.n; k++) {
        const e = rows[k];
        assert(
          e >= 0 && e < nEntities,
          () => `attribute "${this.name}": entity ${e} outside [0, ${nEntities})`,
        );
        last[e] = cols[k];
      }
      let m = 0;
      for (let e = 0; e < nEntities; e++) if (last[e] >= 0) m++;
      rows = new Int32Array(m);
      cols = new Int32Array(m);
      m = 0;
      for (let e = 0; e < nEntities; e++) {
        if (last[e] >= 0) {
          rows[m] = e;
          cols[m++] = last[e];
        }
      }
    }
    const csr = buildCsr(nEntities, this.vocab.size, rows, cols, null, "one");
    return { name: this.name, multi: this.multi, vocab: this.vocab, csr };
  }
}

/**
 * Builds a field from (entity, value) pairs.
 * @example attributeField("genre", items.size, [[0, "Comedy"], [0, "Drama"]], { multi: true })
 */
export function attributeField(
  name: string,
  nEntities: number,
  pairs: Iterable<readonly [number, string]>,
  opts: { readonly multi?: boolean } = {},
): AttributeField {
  const b = new AttributeBuilder(name, opts.multi ?? false);
  for (const [e, v] of pairs) b.add(e, v);
  return b.build(nEntities);
}

/** A table keyed by field name, in the given order. */
export function attributeTable(fields: readonly AttributeField[]): AttributeTable {
  return new Map(fields.map((f) => [f.name, f]));
}

/** Value strings of one entity (allocates; for tests, display and export). */
export function attributeValues(field: AttributeField, entity: number): string[] {
  const out: string[] = [];
  for (let p = field.csr.offsets[entity]; p < field.csr.offsets[entity + 1]; p++) {
    out.push(field.vocab.id(field.csr.indices[p]));
  }
  return out;
}

/** Item stats from exposure and click counts (and any extra columns), validated to nItems. */
export function itemStats(
  nItems: number,
  cols: {
    readonly exposures?: Float64Array | null;
    readonly clicks?: Float64Array | null;
    readonly columns?: ReadonlyMap<string, Float64Array>;
  },
): ItemStats {
  const check = (what: string, a: Float64Array | null | undefined) =>
    assert(
      a == null || a.length === nItems,
      () => `itemStats: "${what}" has ${a?.length} values, expected ${nItems}`,
    );
  check("exposures", cols.exposures);
  check("clicks", cols.clicks);
  for (const [k, v] of cols.columns ?? []) check(k, v);
  return {
    exposures: cols.exposures ?? null,
    clicks: cols.clicks ?? null,
    columns: cols.columns ?? new Map(),
  };
}

/**
 * Per-item count of rows (or of summed weights with `weighted`) in `log`, optionally only rows
 * of one event name (an absent event gives all zeros).
 */
export function itemPopularity(
  log: Interactions,
  nItems: number,
  opts: { readonly event?: string; readonly weighted?: boolean } = {},
): Float64Array {
  const out = new Float64Array(nItems);
  const ev = opts.event === undefined ? -1 : log.eventNames.indexOf(opts.event);
  if (opts.event !== undefined && (ev < 0 || log.events === null)) return out;
  const w = opts.weighted === true ? log.weights : null;
  for (let e = 0; e < log.length; e++) {
    if (ev >= 0 && (log.events as Int32Array)[e] !== ev) continue;
    out[log.items[e]] += w === null ? 1 : w[e];
  }
  return out;
}

/** Beta(α, β) prior for smoothing CTR. */
export interface BetaPrior {
  readonly alpha: number;
  readonly beta: number;
}

/**
 * Method-of-moments Beta prior over the raw CTRs of items with exposures > 0 (the usual
 * empirical-Bayes shortcut). Falls back to α = 1, β = 1 when the CTRs have no spread.
 */
export function fitBetaPrior(stats: ItemStats): BetaPrior {
  const ex = stats.exposures;
  const cl = stats.clicks;
  assert(ex !== null && cl !== null, () => "fitBetaPrior: item stats need exposures and clicks");
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < ex.length; i++) {
    if (!(ex[i] > 0)) continue;
    const x = Math.min(1, cl[i] / ex[i]);
    n++;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  const variance = n > 1 ? m2 / (n - 1) : 0;
  if (n < 2 || !(variance > 0) || mean <= 0 || mean >= 1 || variance >= mean * (1 - mean))
    return { alpha: 1, beta: 1 };
  const common = (mean * (1 - mean)) / variance - 1;
  return { alpha: mean * common, beta: (1 - mean) * common };
}

/**
 * Smoothed CTR per item: (clicks + α) / (exposures + α + β) — the posterior mean under a
 * Beta(α, β) prior, i.e. additive smoothing. α, β default to `fitBetaPrior(stats)`.
 * An item never shown gets the prior mean α / (α + β).
 */
export function smoothedCtr(stats: ItemStats, prior: Partial<BetaPrior> = {}): Float64Array {
  const ex = stats.exposures;
  const cl = stats.clicks;
  assert(ex !== null && cl !== null, () => "smoothedCtr: item stats need exposures and clicks");
  const fitted = prior.alpha === undefined || prior.beta === undefined ? fitBetaPrior(stats) : null;
  const a = prior.alpha ?? (fitted as BetaPrior).alpha;
  const b = prior.beta ?? (fitted as BetaPrior).beta;
  assert(a > 0 && b > 0, () => `smoothedCtr: alpha and beta must be > 0, got ${a}, ${b}`);
  const out = new Float64Array(ex.length);
  for (let i = 0; i < ex.length; i++) out[i] = (cl[i] + a) / (ex[i] + a + b);
  return out;
}
