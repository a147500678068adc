/**
 * LightGCN/NGCF split files (`train.txt`, `test.txt`: `user item item ...` per line, dense 0-based
 * ids). User i is index i and item j is index j, so results line up with the papers' code.
 * Parsed byte by byte from a stream: no string per number.
 */
import { createReadStream, existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { RecallkitError } from "../errors.ts";
import type { Dataset, Interactions } from "../types.ts";
import { IdMap } from "./id-map.ts";

interface Adjacency {
  users: Int32Array;
  items: Int32Array;
  maxUser: number;
  maxItem: number;
}

/** Parses one adjacency file into (user, item) columns. */
export async function readAdjacencyList(file: string): Promise<Adjacency> {
  let users = new Int32Array(1 << 16);
  let items = new Int32Array(1 << 16);
  let n = 0;
  let maxUser = -1;
  let maxItem = -1;
  let line = 1;
  let cur = -1; // number being read, −1 when between numbers
  let field = 0; // 0: user field of the line, ≥ 1: items
  let user = 0;
  const end = () => {
    if (cur < 0) return;
    if (field === 0) {
      user = cur;
      if (user > maxUser) maxUser = user;
    } else {
      if (n === users.length) {
        const u2 = new Int32Array(n * 2);
        u2.set(users);
        users = u2;
        const i2 = new Int32Array(n * 2);
        i2.set(items);
        items = i2;
      }
      users[n] = user;
      items[n++] = cur;
      if (cur > maxItem) maxItem = cur;
    }
    field++;
    cur = -1;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let p = 0; p < chunk.length; p++) {
      const c = chunk[p];
      if (c >= 48 && c <= 57) {
        cur = cur < 0 ? c - 48 : cur * 10 + (c - 48);
        if (cur > 0x7fffffff) throw bad(file, line, "an id is larger than 2^31 − 1");
      } else if (c === 32 || c === 9 || c === 13) end();
      else if (c === 10) {
        end();
        field = 0;
        line++;
      } else
        throw bad(
          file,
          line,
          `unexpected character ${JSON.stringify(String.fromCharCode(c))}; expected "user item item ..." with integer ids`,
        );
    }
  }
  end();
  return { users: users.slice(0, n), items: items.slice(0, n), maxUser, maxItem };
}

function bad(file: string, line: number, msg: string): RecallkitError {
  return new RecallkitError("RK_ERR_DATA_PARSE", `${file}:${line}: ${msg}`);
}

function log(a: Adjacency): Interactions {
  return {
    length: a.users.length,
    users: a.users,
    items: a.items,
    weights: null,
    ts: null,
    events: null,
    eventNames: [],
    sessions: null,
  };
}

/**
 * Loads `dir/train.txt` and, when present, `dir/test.txt` (the fixed test split).
 * @example const gowalla = await loadLightGcn("/data/gowalla"); // 29,858 users, 40,981 items
 */
export async function loadLightGcn(dir: string, opts: { readonly name?: string } = {}): Promise<Dataset> {
  const trainFile = join(dir, "train.txt");
  if (!existsSync(trainFile)) {
    throw new RecallkitError(
      "RK_ERR_DATASET_UNKNOWN",
      `${trainFile} not found: a LightGCN folder holds train.txt and test.txt`,
    );
  }
  const testFile = join(dir, "test.txt");
  const [train, test] = await Promise.all([
    readAdjacencyList(trainFile),
    existsSync(testFile) ? readAdjacencyList(testFile) : Promise.resolve(null),
  ]);
  if (train.users.length === 0)
    throw new RecallkitError("RK_ERR_DATA_EMPTY", `${trainFile}: holds no interactions`);
  const nUsers = Math.max(train.maxUser, test?.maxUser ?? -1) + 1;
  const nItems = Math.max(train.maxItem, test?.maxItem ?? -1) + 1;
  const users = new IdMap();
  for (let u = 0; u < nUsers; u++) users.add(String(u));
  const items = new IdMap();
  for (let i = 0; i < nItems; i++) items.add(String(i));
  return {
    name: opts.name ?? basename(resolve(dir)),
    users,
    items,
    train: log(train),
    test: test === null ? null : log(test),
    itemAttributes: new Map(),
    userAttributes: new Map(),
    itemStats: null,
  };
}
