/**
 * A Dataset as a structured-clone message for a worker thread and back: typed arrays, Maps and
 * plain objects survive `postMessage`, class instances do not, so each IdMap travels as its id
 * list and is rebuilt on the other side.
 */
import type { AttributeField, AttributeTable, Dataset } from "../types.ts";
import { IdMap } from "./id-map.ts";

type FieldMessage = Omit<AttributeField, "vocab"> & { readonly vocab: readonly string[] };

export interface DatasetMessage
  extends Omit<Dataset, "users" | "items" | "itemAttributes" | "userAttributes"> {
  readonly users: readonly string[];
  readonly items: readonly string[];
  readonly itemAttributes: readonly (readonly [string, FieldMessage])[];
  readonly userAttributes: readonly (readonly [string, FieldMessage])[];
}

const fieldsOut = (t: AttributeTable): [string, FieldMessage][] =>
  [...t].map(([k, f]) => [k, { ...f, vocab: f.vocab.ids() }]);

const fieldsIn = (fs: readonly (readonly [string, FieldMessage])[]): AttributeTable =>
  new Map(fs.map(([k, f]) => [k, { ...f, vocab: IdMap.from(f.vocab) }]));

export function datasetToMessage(d: Dataset): DatasetMessage {
  return {
    ...d,
    users: d.users.ids(),
    items: d.items.ids(),
    itemAttributes: fieldsOut(d.itemAttributes),
    userAttributes: fieldsOut(d.userAttributes),
  };
}

export function datasetFromMessage(m: DatasetMessage): Dataset {
  return {
    ...m,
    users: IdMap.from(m.users),
    items: IdMap.from(m.items),
    itemAttributes: fieldsIn(m.itemAttributes),
    userAttributes: fieldsIn(m.userAttributes),
  };
}
