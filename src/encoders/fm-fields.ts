/**
 * FM recall features (spec §5.4.2): the declared user fields and item fields, turned into one
 * sparse feature row per entity (CSR: entity → feature ids with values x_i). Each side has its
 * own feature space; a field never mixes user and item information, since user×item cross
 * features would break the decoupling that lets E_t be precomputed (spec §5.2.3, "FM召回不能使用
 * 交叉特征").
 *
 * Field specs are strings that print back unchanged:
 * - `"id"`: the entity's own id (one feature per entity; entities absent from training get none,
 *   so an untrained id row never adds noise to a vector);
 * - `"<attribute>"`: a categorical or multi-valued attribute of that side (`data.userAttributes`
 *   / `data.itemAttributes`, e.g. "age", "occupation", "genre", "year"); the n values of a
 *   multi-valued attribute get x = 1/n each;
 * - `"count:<n>"`: the entity's number of training interactions (user activity, item
 *   popularity), bucketised as min(n − 1, ⌊log2(1 + count)⌋);
 * - `"stat:<column>:<n>"` (items only): an item stats column (`exposures`, `clicks` or a named
 *   column of `data.itemStats`) bucketised the same way.
 */
import { userItemCsr } from "../data/matrix.ts";
import { assert } from "../errors.ts";
import type { Csr } from "../math/csr.ts";
import type { AttributeField, Dataset } from "../types.ts";

export type FmSide = "user" | "item";

/** One field's place in its side's feature space (serialisable). */
export interface FmFieldLayout {
  readonly spec: string;
  readonly kind: "id" | "attribute" | "count" | "stat";
  /** Attribute or stat column name ("" for id and count). */
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Attribute values in feature order (attributes only). */
  readonly vocab: readonly string[] | null;
}

/** A request's feature values for cold start: field name → value(s). */
export type FmFeatureValues = Readonly<Record<string, string | number | readonly string[]>>;

/** Parses and validates `specs` for one side of `data`; throws naming the bad field. */
export function fmFieldLayouts(data: Dataset, side: FmSide, specs: readonly string[]): FmFieldLayout[] {
  const who = `FmRecall ${side}Fields`;
  assert(specs.length > 0, () => `${who}: declare at least one field (e.g. ["id"])`);
  const own = side === "user" ? data.userAttributes : data.itemAttributes;
  const other = side === "user" ? data.itemAttributes : data.userAttributes;
  const nEntities = side === "user" ? data.users.size : data.items.size;
  const seen = new Set<string>();
  const out: FmFieldLayout[] = [];
  let offset = 0;
  for (const spec of specs) {
    assert(typeof spec === "string" && spec.length > 0, () => `${who}: field specs are non-empty strings`);
    assert(!seen.has(spec), () => `${who}: field "${spec}" is declared twice`);
    seen.add(spec);
    const parts = spec.split(":");
    let f: Omit<FmFieldLayout, "offset">;
    if (spec === "id") f = { spec, kind: "id", name: "", size: nEntities, vocab: null };
    else if (parts[0] === "count") {
      f = {
        spec,
        kind: "count",
        name: "",
        size: buckets(who, spec, parts[1], parts.length === 2),
        vocab: null,
      };
    } else if (parts[0] === "stat") {
      assert(side === "item", () => `${who}: field "${spec}": stat fields are item stats; use "count:<n>"`);
      const col = parts[1] ?? "";
      assert(
        statColumn(data, col) !== null,
        () =>
          `${who}: field "${spec}": no item stats column "${col}"; available: ${statNames(data).join(", ") || "(none)"}`,
      );
      f = {
        spec,
        kind: "stat",
        name: col,
        size: buckets(who, spec, parts[2], parts.length === 3),
        vocab: null,
      };
    } else {
      const a = own.get(spec);
      if (a === undefined) {
        const hint = other.has(spec)
          ? `"${spec}" is a${side === "user" ? "n item" : " user"} attribute: FM recall takes no user×item cross features (spec §5.2.3); declare it on the ${side === "user" ? "item" : "user"} side`
          : `known ${side} attributes: ${[...own.keys()].join(", ") || "(none)"}; or "id", "count:<n>"${side === "item" ? ', "stat:<column>:<n>"' : ""}`;
        assert(false, () => `${who}: unknown field "${spec}"; ${hint}`);
      }
      f = { spec, kind: "attribute", name: spec, size: a.vocab.size, vocab: a.vocab.ids() };
    }
    out.push({ ...f, offset });
    offset += f.size;
  }
  return out;
}

function buckets(who: string, spec: string, s: string | undefined, arity: boolean): number {
  const n = Number(s);
  assert(
    arity && Number.isInteger(n) && n >= 2 && n <= 64,
    () => `${who}: field "${spec}": expected "<kind>:<buckets>" with 2 ≤ buckets ≤ 64`,
  );
  return n;
}

function statNames(data: Dataset): string[] {
  const s = data.itemStats;
  if (s === null) return [];
  return [...(s.exposures ? ["exposures"] : []), ...(s.clicks ? ["clicks"] : []), ...s.columns.keys()];
}

function statColumn(data: Dataset, name: string): Float64Array | null {
  const s = data.itemStats;
  if (s === null) return null;
  if (name === "exposures") return s.exposures;
  if (name === "clicks") return s.clicks;
  return s.columns.get(name) ?? null;
}

/** log2 bucket of a non-negative count. */
export function countBucket(count: number, size: number): number {
  return Math.min(size - 1, Math.floor(Math.log2(1 + Math.max(0, count))));
}

/** Total feature count of a layout. */
export function featureCount(fields: readonly FmFieldLayout[]): number {
  return fields.length === 0 ? 0 : fields[fields.length - 1].offset + fields[fields.length - 1].size;
}

/**
 * The entity × feature matrix of one side (values x_i). Allocates; built once per fit.
 */
export function fmFeatureCsr(data: Dataset, side: FmSide, fields: readonly FmFieldLayout[]): Csr {
  const nU = data.users.size;
  const nI = data.items.size;
  const n = side === "user" ? nU : nI;
  const counts = new Float64Array(n);
  const m = userItemCsr(data.train, nU, nI);
  if (side === "user") for (let u = 0; u < nU; u++) counts[u] = m.offsets[u + 1] - m.offsets[u];
  else for (let e = 0; e < m.indices.length; e++) counts[m.indices[e]]++;
  const attrs = side === "user" ? data.userAttributes : data.itemAttributes;
  const offsets = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < n; r++) {
    for (const f of fields) {
      if (f.kind === "id") {
        if (counts[r] > 0) push(idx, val, f.offset + r, 1);
      } else if (f.kind === "count") push(idx, val, f.offset + countBucket(counts[r], f.size), 1);
      else if (f.kind === "stat") {
        const col = statColumn(data, f.name) as Float64Array;
        push(idx, val, f.offset + countBucket(col[r], f.size), 1);
      } else {
        const c = (attrs.get(f.name) as AttributeField).csr;
        const len = c.offsets[r + 1] - c.offsets[r];
        for (let e = c.offsets[r]; e < c.offsets[r + 1]; e++)
          push(idx, val, f.offset + c.indices[e], 1 / len);
      }
    }
    offsets[r + 1] = idx.length;
  }
  return {
    nRows: n,
    nCols: featureCount(fields),
    offsets,
    indices: Int32Array.from(idx),
    values: Float32Array.from(val),
  };
}

function push(idx: number[], val: number[], i: number, x: number): void {
  idx.push(i);
  val.push(x);
}

/**
 * Feature ids and values of one request (cold start: a new user or item known by its
 * attributes). Keys are field specs ("id" takes a dense index, "count:<n>"/"stat:…" a number,
 * attributes a value or a list of values). Values the training data never saw are skipped (they
 * have no embedding); unknown field names throw.
 */
export function encodeFeatures(
  fields: readonly FmFieldLayout[],
  values: FmFeatureValues,
  who: string,
): { indices: Int32Array; values: Float32Array } {
  const bySpec = new Map(fields.map((f) => [f.spec, f]));
  for (const k of Object.keys(values))
    assert(
      bySpec.has(k),
      () => `${who}: unknown field "${k}"; declared fields: ${fields.map((f) => f.spec).join(", ")}`,
    );
  const idx: number[] = [];
  const val: number[] = [];
  for (const f of fields) {
    const v = values[f.spec];
    if (v === undefined) continue;
    if (f.kind === "attribute") {
      const list = typeof v === "string" ? [v] : typeof v === "number" ? [String(v)] : v;
      const known = list.map((s) => (f.vocab as readonly string[]).indexOf(s)).filter((i) => i >= 0);
      for (const i of known) push(idx, val, f.offset + i, 1 / list.length);
    } else {
      const x = Number(v);
      assert(Number.isFinite(x), () => `${who}: field "${f.spec}" takes a number, got ${JSON.stringify(v)}`);
      if (f.kind === "id") {
        assert(
          Number.isInteger(x) && x >= 0 && x < f.size,
          () => `${who}: field "id" must be a dense index in [0, ${f.size}), got ${x}`,
        );
        push(idx, val, f.offset + x, 1);
      } else push(idx, val, f.offset + countBucket(x, f.size), 1);
    }
  }
  return { indices: Int32Array.from(idx), values: Float32Array.from(val) };
}
