/**
 * The catalogue every channel shares at serving time: external ↔ dense ids, each user's training
 * history (seen items for filtering, the time-ordered tail as the recent history) and the item and
 * user attributes that business rules and cold start read. Built from the dataset by
 * `recallkit train --config` and saved as an artifact (`<artifacts>/catalogue`).
 */
import { attributeValues } from "../data/attributes.ts";
import { IdMap } from "../data/id-map.ts";
import { orderByUserTime } from "../data/interactions.ts";
import { userItemCsr } from "../data/matrix.ts";
import { type Payload, readArtifact, writeArtifact } from "../io/artifact.ts";
import type { Csr } from "../math/csr.ts";
import type { AttributeField, AttributeTable, Dataset } from "../types.ts";

export const CATALOGUE_ARTIFACT_TYPE = "serve-catalogue";

export interface Catalogue {
  readonly dataset: string;
  readonly users: IdMap;
  readonly items: IdMap;
  /** user → distinct training items, sorted (what "exclude seen" masks). */
  readonly seen: Csr;
  /** user → the last `recentSize` training items in time order, most recent last. */
  readonly recent: Csr;
  readonly itemAttributes: AttributeTable;
  readonly userAttributes: AttributeTable;
}

/** Builds the catalogue from a dataset's training split. */
export function buildCatalogue(ds: Dataset, recentSize = 50): Catalogue {
  const nU = ds.users.size;
  const { order, offsets } = orderByUserTime(ds.train, nU);
  const rOff = new Int32Array(nU + 1);
  for (let u = 0; u < nU; u++) rOff[u + 1] = rOff[u] + Math.min(recentSize, offsets[u + 1] - offsets[u]);
  const rIdx = new Int32Array(rOff[nU]);
  for (let u = 0; u < nU; u++) {
    const from = Math.max(offsets[u], offsets[u + 1] - recentSize);
    for (let e = from, j = rOff[u]; e < offsets[u + 1]; e++, j++) rIdx[j] = ds.train.items[order[e]];
  }
  return {
    dataset: ds.name,
    users: ds.users,
    items: ds.items,
    seen: userItemCsr(ds.train, nU, ds.items.size),
    recent: { nRows: nU, nCols: ds.items.size, offsets: rOff, indices: rIdx, values: null },
    itemAttributes: ds.itemAttributes,
    userAttributes: ds.userAttributes,
  };
}

/** Items of row r of a CSR (a view, no copy). */
export function csrRow(m: Csr, r: number): Int32Array {
  return r < 0 || r >= m.nRows ? new Int32Array(0) : m.indices.subarray(m.offsets[r], m.offsets[r + 1]);
}

/** Attribute values of one entity as { field: [values] }. */
export function attributesOf(table: AttributeTable, entity: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, f] of table) if (entity < f.csr.nRows) out[name] = attributeValues(f, entity);
  return out;
}

function csrPayload(name: string, m: Csr): Record<string, Payload> {
  return {
    [`${name}.offsets.npy`]: { npy: m.offsets, shape: [m.offsets.length] },
    [`${name}.indices.npy`]: { npy: m.indices, shape: [m.indices.length] },
  };
}

export async function saveCatalogue(dir: string, c: Catalogue): Promise<void> {
  const payloads: Record<string, Payload> = {
    "users.json": { json: c.users.ids() },
    "items.json": { json: c.items.ids() },
    ...csrPayload("seen", c.seen),
    ...csrPayload("recent", c.recent),
  };
  const fields = (side: string, t: AttributeTable) =>
    [...t.values()].map((f) => {
      Object.assign(payloads, csrPayload(`${side}.${f.name}`, f.csr), {
        [`${side}.${f.name}.vocab.json`]: { json: f.vocab.ids() },
      });
      return { name: f.name, multi: f.multi, nRows: f.csr.nRows };
    });
  const meta = {
    dataset: c.dataset,
    nUsers: c.users.size,
    nItems: c.items.size,
    itemFields: fields("item", c.itemAttributes),
    userFields: fields("user", c.userAttributes),
  };
  await writeArtifact(dir, { type: CATALOGUE_ARTIFACT_TYPE, params: {}, meta }, payloads);
}

interface FieldMeta {
  name: string;
  multi: boolean;
  nRows: number;
}

export async function loadCatalogue(dir: string): Promise<Catalogue> {
  const a = await readArtifact(dir, CATALOGUE_ARTIFACT_TYPE);
  const meta = a.manifest.meta as {
    dataset: string;
    nUsers: number;
    nItems: number;
    itemFields: FieldMeta[];
    userFields: FieldMeta[];
  };
  const csr = async (name: string, nRows: number, nCols: number): Promise<Csr> => ({
    nRows,
    nCols,
    offsets: (await a.npy(`${name}.offsets.npy`)).data as Int32Array,
    indices: (await a.npy(`${name}.indices.npy`)).data as Int32Array,
    values: null,
  });
  const table = async (side: string, fields: FieldMeta[]): Promise<AttributeTable> => {
    const out = new Map<string, AttributeField>();
    for (const f of fields) {
      const vocab = IdMap.from(await a.json<string[]>(`${side}.${f.name}.vocab.json`));
      out.set(f.name, {
        name: f.name,
        multi: f.multi,
        vocab,
        csr: await csr(`${side}.${f.name}`, f.nRows, vocab.size),
      });
    }
    return out;
  };
  return {
    dataset: meta.dataset,
    users: IdMap.from(await a.json<string[]>("users.json")),
    items: IdMap.from(await a.json<string[]>("items.json")),
    seen: await csr("seen", meta.nUsers, meta.nItems),
    recent: await csr("recent", meta.nUsers, meta.nItems),
    itemAttributes: await table("item", meta.itemFields),
    userAttributes: await table("user", meta.userFields),
  };
}
