/** `recallkit recommend --artifact DIR (--user ID | --items a,b,c | --similar ITEM) [--k 20]` */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { IdMap } from "../../data/id-map.ts";
import { userItemCsr } from "../../data/matrix.ts";
import { RecallkitError } from "../../errors.ts";
import type { TopK } from "../../math/topk.ts";
import { loadModel } from "../../registry.ts";
import { parse } from "../args.ts";
import { datasetFrom } from "./shared.ts";

const HELP = `usage: recallkit recommend --artifact DIR (--user ID | --items ID,ID,... | --similar ID) [--k 20] [--json]

Queries a saved model. --user needs --dataset to mask the user's seen items (the same dataset the
model was trained on); --items treats the ids as a user's recent history (most recent last);
--similar lists the items most similar to one item.`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    artifact: { type: "string" },
    dataset: { type: "string" },
    user: { type: "string" },
    items: { type: "string" },
    similar: { type: "string" },
    k: { type: "string", default: "20" },
  });
  if (values.help) return void console.log(HELP);
  if (values.artifact === undefined)
    throw new RecallkitError(
      "RK_ERR_INVALID_ARGUMENT",
      "no model given: pass --artifact DIR (see recallkit train)",
    );
  const k = Number(values.k);
  if (!Number.isInteger(k) || k <= 0)
    throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `--k "${values.k}": expected a positive integer`);
  const model = await loadModel(values.artifact);
  const ids = JSON.parse(
    await readFile(join(values.artifact, "ids.json"), "utf8").catch(() => {
      throw new RecallkitError(
        "RK_ERR_ARTIFACT",
        `${values.artifact}/ids.json: missing (artifacts made by "recallkit train" carry it)`,
      );
    }),
  ) as { users: string[]; items: string[] };
  const users = IdMap.from(ids.users);
  const items = IdMap.from(ids.items);
  const item = (id: string): number => {
    const i = items.indexOf(id);
    if (i < 0) throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `unknown item id "${id}"`);
    return i;
  };
  let top: TopK;
  let query: string;
  if (values.user !== undefined) {
    const u = users.indexOf(values.user);
    if (u < 0)
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `unknown user id "${values.user}" (use --items for a user known only by recent items)`,
      );
    const ds = values.dataset === undefined ? null : await datasetFrom(values);
    const exclude = ds === null ? null : userItemCsr(ds.train, ds.users.size, ds.items.size);
    top = await model.recommend(Int32Array.of(u), k, { exclude });
    query = `user ${values.user}`;
  } else if (values.items !== undefined) {
    if (model.recommendFromItems === undefined)
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `model "${model.kind}" cannot recommend from items`,
      );
    top = model.recommendFromItems(Int32Array.from(values.items.split(",").map(item)), k);
    query = `items ${values.items}`;
  } else if (values.similar !== undefined) {
    if (model.similarItems === undefined)
      throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `model "${model.kind}" has no item similarity`);
    top = model.similarItems(Int32Array.of(item(values.similar)), k);
    query = `similar to ${values.similar}`;
  } else
    throw new RecallkitError(
      "RK_ERR_INVALID_ARGUMENT",
      "pass one of --user ID, --items ID,ID,... or --similar ID",
    );
  const row = top.row(0);
  const list = Array.from(row.ids, (it, j) => ({ item: items.id(it), score: row.scores[j] }));
  if (values.json) console.log(JSON.stringify({ model: model.kind, query, items: list }));
  else {
    console.log(`${model.kind}: ${query}`);
    for (const [j, x] of list.entries())
      console.log(`${String(j + 1).padStart(4)}. ${x.item}  ${x.score.toFixed(4)}`);
  }
}
