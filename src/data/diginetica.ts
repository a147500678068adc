/**
 * Diginetica (CIKM Cup 2016 track 2): session views, purchases joined by session id, item
 * categories.
 *
 * Users are sessions. Most sessions are anonymous (userId = NA), and the session-based protocol
 * (SR-GNN, NARM, ...) models each session on its own, so each session id is one user and
 * `sessions[e] === users[e]`. The account id, when known, is kept as the user attribute "account".
 * Rows: views ("view") and the purchases of sessions that occur in the view file ("purchase";
 * purchases of other sessions are counted as filtered), ordered by (session, eventdate +
 * timeframe), views before purchases on ties. ts = eventdate (UTC midnight) + timeframe / 1000.
 * Item stats: exposures = views, clicks = purchases (so "CTR" is view → purchase conversion).
 */
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { dataError, RecallkitError } from "../errors.ts";
import { AttributeBuilder, itemStats } from "./attributes.ts";
import { IdMap } from "./id-map.ts";
import type { LoadedDataset, ReadReport } from "./ingest.ts";
import { InteractionsBuilder, orderByUserTime, selectRows, sortIdMap } from "./interactions.ts";
import { readHeader, readSideFile } from "./side-files.ts";

export interface DigineticaOptions {
  readonly skipBadRows?: boolean;
  readonly name?: string;
}

const VIEW_FILES = ["train-item-views.csv", "sample_train-item-views.csv"];

/** Which views file `dir` holds (the full log first), or null. */
export function digineticaViewsFile(dir: string): string | null {
  for (const f of VIEW_FILES) if (existsSync(join(dir, f))) return join(dir, f);
  return null;
}

/** Column positions by normalised name: `session_id` and `sessionId` are both "sessionid". */
function columnsOf(file: string, wanted: readonly string[]): number[] {
  const head = readHeader(file, ";");
  const norm = head.map((h) => h.toLowerCase().replaceAll("_", ""));
  return wanted.map((w) => {
    const k = norm.indexOf(w);
    if (k < 0) {
      throw new RecallkitError(
        "RK_ERR_DATA_MISSING_COLUMN",
        `${file}: column "${w}" not found (any case, "_" ignored); header has: ${head.join(", ")}`,
      );
    }
    return k;
  });
}

/**
 * Loads a Diginetica folder: `train-item-views.csv` or `sample_train-item-views.csv`, plus
 * `train-purchases.csv` and `product-categories.csv` when present.
 * @example const dg = await loadDiginetica("data/diginetica");
 */
export async function loadDiginetica(dir: string, opts: DigineticaOptions = {}): Promise<LoadedDataset> {
  const viewsFile = digineticaViewsFile(dir);
  if (viewsFile === null) {
    throw new RecallkitError(
      "RK_ERR_DATASET_UNKNOWN",
      `${dir}: no Diginetica views file (looked for ${VIEW_FILES.join(", ")})`,
    );
  }
  const skip = opts.skipBadRows === true;
  const sessions = new IdMap();
  const items = new IdMap();
  const b = new InteractionsBuilder({ ts: true, events: true, sessions: true }, 1 << 14);
  const view = b.event("view");
  const purchase = b.event("purchase");
  const account = new AttributeBuilder("account", false);
  const reports: (ReadReport & { file: string })[] = [];
  const time = (file: string, line: number, date: string, frame: string): number => {
    const day = Date.parse(date);
    if (!Number.isFinite(day))
      throw dataError(file, line, "eventdate", `${JSON.stringify(date)} is not a date`);
    const ms = Number(frame);
    if (frame === "" || !Number.isFinite(ms))
      throw dataError(file, line, "timeframe", `${JSON.stringify(frame)} is not a number`);
    return day / 1000 + ms / 1000;
  };
  const need = (file: string, line: number, field: string, v: string): string => {
    if (v.length === 0) throw dataError(file, line, field, "is empty");
    return v;
  };

  const [vs, vu, vi, vt, vd] = columnsOf(viewsFile, [
    "sessionid",
    "userid",
    "itemid",
    "timeframe",
    "eventdate",
  ]);
  const vWidth = Math.max(vs, vu, vi, vt, vd) + 1;
  reports.push(
    await readSideFile(
      viewsFile,
      { delimiter: ";", header: true, minFields: vWidth, skipBadRows: skip },
      (f, line) => {
        const t = time(viewsFile, line, f[vd], f[vt]);
        const sid = need(viewsFile, line, "sessionId", f[vs]);
        const iid = need(viewsFile, line, "itemId", f[vi]);
        const s = sessions.add(sid);
        b.push(s, items.add(iid), 1, t, view, s);
        if (f[vu] !== "NA" && f[vu] !== "") account.add(s, f[vu]);
      },
    ),
  );

  const purchasesFile = join(dir, "train-purchases.csv");
  if (existsSync(purchasesFile)) {
    const [ps, pu, pt, pd, pi] = columnsOf(purchasesFile, [
      "sessionid",
      "userid",
      "timeframe",
      "eventdate",
      "itemid",
    ]);
    const pWidth = Math.max(ps, pu, pt, pd, pi) + 1;
    let outside = 0;
    const rep = await readSideFile(
      purchasesFile,
      { delimiter: ";", header: true, minFields: pWidth, skipBadRows: skip },
      (f, line) => {
        const s = sessions.indexOf(f[ps]);
        if (s < 0) {
          outside++;
          return;
        }
        const t = time(purchasesFile, line, f[pd], f[pt]);
        b.push(s, items.add(need(purchasesFile, line, "itemId", f[pi])), 1, t, purchase, s);
        if (f[pu] !== "NA" && f[pu] !== "") account.add(s, f[pu]);
      },
    );
    reports.push({ ...rep, filtered: outside });
  }

  const raw = b.build();
  const users = sortIdMap(sessions, [raw.users, raw.sessions as Int32Array]);
  const itemMap = sortIdMap(items, [raw.items]);
  const { order } = orderByUserTime(raw, users.size);
  const log = selectRows(raw, order);

  // Account attribute pairs were added with pre-sort session indices: rebuild through the ids.
  const acct = account.build(sessions.size);
  const accountSorted = new AttributeBuilder("account", false);
  for (let s = 0; s < sessions.size; s++) {
    const p = acct.csr.offsets[s];
    if (p < acct.csr.offsets[s + 1])
      accountSorted.add(users.indexOf(sessions.id(s)), acct.vocab.id(acct.csr.indices[p]));
  }

  const itemAttributes = new Map();
  const catFile = join(dir, "product-categories.csv");
  if (existsSync(catFile)) {
    const [ci, cc] = columnsOf(catFile, ["itemid", "categoryid"]);
    const category = new AttributeBuilder("category", false);
    const rep = await readSideFile(
      catFile,
      { delimiter: ";", header: true, minFields: Math.max(ci, cc) + 1, skipBadRows: skip },
      (f) => {
        const i = itemMap.indexOf(f[ci]);
        if (i >= 0) category.add(i, f[cc]);
      },
    );
    reports.push(rep);
    itemAttributes.set("category", category.build(itemMap.size));
  }

  const views = new Float64Array(itemMap.size);
  const buys = new Float64Array(itemMap.size);
  const ev = log.events as Int32Array;
  for (let e = 0; e < log.length; e++) {
    if (ev[e] === view) views[log.items[e]]++;
    else buys[log.items[e]]++;
  }
  return {
    name: opts.name ?? basename(resolve(dir)),
    users,
    items: itemMap,
    train: log,
    test: null,
    itemAttributes,
    userAttributes: new Map([["account", accountSorted.build(users.size)]]),
    itemStats: itemStats(itemMap.size, {
      exposures: views,
      clicks: buys,
      columns: new Map([
        ["views", views],
        ["purchases", buys],
      ]),
    }),
    report: { files: reports },
  };
}
