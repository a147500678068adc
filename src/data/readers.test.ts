import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { writeTinyParquet } from "../../test/fixtures/tiny-parquet.ts";
import { RecallkitError } from "../errors.ts";
import { IdMap } from "./id-map.ts";
import { readInteractions } from "./readers.ts";
import { csvField, splitFields } from "./text.ts";

const dir = mkdtempSync(join(tmpdir(), "rk-readers-"));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const code = (c: string, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof RecallkitError, String(err));
  assert.equal(err.code, c);
  if (re) assert.match(err.message, re);
  return true;
};

describe("delimited", () => {
  test("header, quoted fields, CRLF, BOM, events and sessions", async () => {
    const p = file(
      "a.csv",
      '\ufeffuser,item,ts,event,weight,sess\r\nu1,"i,1",100,view,1.5,s1\r\nu2,i2,200,buy,2,s2\r\n\r\nu1,"say ""hi""",300,view,3,s1\r\n',
    );
    const r = await readInteractions(p, {
      columns: { user: "user", item: "item", ts: "ts", event: "event", weight: "weight", session: "sess" },
    });
    assert.equal(r.rows, 3);
    assert.deepEqual(r.users.ids(), ["u1", "u2"]);
    assert.deepEqual(r.items.ids(), ["i,1", "i2", 'say "hi"']);
    assert.deepEqual([...r.log.users], [0, 1, 0]);
    assert.deepEqual([...(r.log.weights ?? [])], [1.5, 2, 3]);
    assert.deepEqual([...(r.log.ts ?? [])], [100, 200, 300]);
    assert.deepEqual(r.log.eventNames, ["view", "buy"]);
    assert.deepEqual([...(r.log.events ?? [])], [0, 1, 0]);
    assert.deepEqual([...(r.log.sessions ?? [])], [0, 1, 0]);
    assert.deepEqual(r.sessionIds?.ids(), ["s1", "s2"]);
  });

  test("quoted field spanning two lines keeps the first line's number", async () => {
    const p = file("ml.csv", 'u,i,w\n1,"two\nlines",3\n2,x,oops\n');
    await assert.rejects(
      readInteractions(p, { columns: { user: "u", item: "i", weight: "w" } }),
      code("RK_ERR_DATA_PARSE", /ml\.csv:4: field "w": "oops" is not a number/),
    );
    const r = await readInteractions(p, {
      columns: { user: "u", item: "i", weight: "w" },
      skipBadRows: true,
    });
    assert.deepEqual(r.items.ids(), ["two\nlines"]);
  });

  test("header-less TSV by index, '::' delimiter, ms and ISO timestamps", async () => {
    const t = file("x.tsv", "7\t9\t1000\n8\t9\t2000\n");
    const r = await readInteractions(t, {
      header: false,
      columns: { user: 0, item: 1, ts: 2 },
      tsUnit: "ms",
    });
    assert.deepEqual([...(r.log.ts ?? [])], [1, 2]);
    const d = file("x.dat", "1::5::2016-05-09\n2::6::2016-05-10T00:00:30Z\n");
    const r2 = await readInteractions(d, { header: false, columns: { user: 0, item: 1, ts: 2 } });
    assert.deepEqual(
      [...(r2.log.ts ?? [])],
      [Date.UTC(2016, 4, 9) / 1000, Date.UTC(2016, 4, 10) / 1000 + 30],
    );
  });

  test("non-numeric weight → file:line and field", async () => {
    const p = file("x.csv", "user,item,weight\na,b,1\na,c,2\na,d,abc\n");
    await assert.rejects(
      readInteractions(p, { columns: { user: "user", item: "item", weight: "weight" } }),
      code("RK_ERR_DATA_PARSE", /x\.csv:4: field "weight": "abc" is not a number$/),
    );
  });

  test("missing declared column names file, column and header", async () => {
    const p = file("m.csv", "userId,movieId\n1,2\n");
    await assert.rejects(
      readInteractions(p, { columns: { user: "userId", item: "movieId", weight: "rating" } }),
      code(
        "RK_ERR_DATA_MISSING_COLUMN",
        /m\.csv: column "rating" \(weight\) not found; header has: userId, movieId/,
      ),
    );
  });

  test("empty file and header-only file → RK_ERR_DATA_EMPTY", async () => {
    await assert.rejects(
      readInteractions(file("e.csv", ""), { columns: { user: "u", item: "i" } }),
      code("RK_ERR_DATA_EMPTY", /e\.csv/),
    );
    await assert.rejects(
      readInteractions(file("h.csv", "u,i\n"), { columns: { user: "u", item: "i" } }),
      code("RK_ERR_DATA_EMPTY"),
    );
  });

  test("named columns without a header is an argument error", async () => {
    await assert.rejects(
      readInteractions(file("n.csv", "1,2\n"), { header: false, columns: { user: "u", item: 1 } }),
      code("RK_ERR_INVALID_ARGUMENT", /without a header/),
    );
  });

  test("skipBadRows counts every bad row and keeps the first errors; ids of bad rows are not added", async () => {
    const p = file("s.csv", "u,i,w\na,b,1\nBAD,c,x\nshort\nd,,2\ne,f,3\n");
    const r = await readInteractions(p, {
      columns: { user: "u", item: "i", weight: "w" },
      skipBadRows: true,
      maxErrors: 2,
    });
    assert.equal(r.rows, 5);
    assert.equal(r.skipped, 3);
    assert.equal(r.log.length, 2);
    assert.deepEqual(r.users.ids(), ["a", "e"]);
    assert.equal(r.firstErrors.length, 2);
    assert.match(r.firstErrors[0], /s\.csv:3: field "w": "x" is not a number/);
    assert.match(r.firstErrors[1], /s\.csv:4: row has 1 fields, 3 needed/);
    // All rows bad: still an error, not an empty log.
    await assert.rejects(
      readInteractions(file("allbad.csv", "u,i,w\na,b,x\n"), {
        columns: { user: "u", item: "i", weight: "w" },
        skipBadRows: true,
      }),
      code("RK_ERR_DATA_EMPTY", /all were bad/),
    );
  });

  test("minWeight filters (counted), binary drops weights, shared id maps extend", async () => {
    const users = IdMap.from(["z"]);
    const p = file("w.csv", "u,i,r\na,x,5\nb,y,2\na,y,4\n");
    const r = await readInteractions(p, {
      columns: { user: "u", item: "i", weight: "r" },
      minWeight: 4,
      binary: true,
      users,
    });
    assert.equal(r.filtered, 1);
    assert.equal(r.log.weights, null);
    assert.deepEqual(users.ids(), ["z", "a"]);
    assert.deepEqual([...r.log.users], [1, 1]);
  });
});

describe("jsonl", () => {
  test("reads objects with numeric and string values", async () => {
    const p = file(
      "a.jsonl",
      '{"u":1,"i":"x","t":"2020-01-01T00:00:00Z","w":2}\n\n{"u":"2","i":"y","t":10,"w":"3"}\n',
    );
    const r = await readInteractions(p, { columns: { user: "u", item: "i", ts: "t", weight: "w" } });
    assert.deepEqual(r.users.ids(), ["1", "2"]);
    assert.deepEqual([...(r.log.ts ?? [])], [Date.UTC(2020, 0, 1) / 1000, 10]);
    assert.deepEqual([...(r.log.weights ?? [])], [2, 3]);
  });

  test("bad JSON line → file:line; skipBadRows counts it", async () => {
    const p = file("b.jsonl", '{"u":1,"i":2}\n{"u":1,"i":\n[1,2]\n{"u":3,"i":4}\n');
    await assert.rejects(
      readInteractions(p, { columns: { user: "u", item: "i" } }),
      code("RK_ERR_DATA_PARSE", /b\.jsonl:2: not valid JSON/),
    );
    const r = await readInteractions(p, { columns: { user: "u", item: "i" }, skipBadRows: true });
    assert.equal(r.skipped, 2);
    assert.match(r.firstErrors[1], /b\.jsonl:3: expected a JSON object/);
    assert.equal(r.log.length, 2);
  });

  test("key missing from the first record is a missing column; later, a row error", async () => {
    const p = file("c.jsonl", '{"user":1,"i":2}\n');
    await assert.rejects(
      readInteractions(p, { columns: { user: "u", item: "i" } }),
      code(
        "RK_ERR_DATA_MISSING_COLUMN",
        /c\.jsonl:1: key "u" \(user\) not found; the first record has: user, i/,
      ),
    );
    const q = file("d.jsonl", '{"u":1,"i":2}\n{"u":1}\n');
    await assert.rejects(
      readInteractions(q, { columns: { user: "u", item: "i" } }),
      code("RK_ERR_DATA_PARSE", /d\.jsonl:2: field "i": is missing/),
    );
  });
});

describe("parquet", () => {
  test("round trip through a generated file", async () => {
    const p = join(dir, "x.parquet");
    writeTinyParquet(p, [
      { name: "user_id", type: "string", values: ["u1", "u2", "u1"] },
      { name: "item_id", type: "int32", values: [10, 20, 30] },
      { name: "ts", type: "int64", values: [100n, 200n, 300n] },
      { name: "rating", type: "double", values: [1.5, 4, 5] },
      { name: "event", type: "string", values: ["view", "buy", "view"] },
    ]);
    const r = await readInteractions(p, {
      columns: { user: "user_id", item: "item_id", ts: "ts", weight: "rating", event: "event" },
    });
    assert.deepEqual(r.users.ids(), ["u1", "u2"]);
    assert.deepEqual(r.items.ids(), ["10", "20", "30"]);
    assert.deepEqual([...r.log.users], [0, 1, 0]);
    assert.deepEqual([...(r.log.ts ?? [])], [100, 200, 300]);
    assert.deepEqual([...(r.log.weights ?? [])], [1.5, 4, 5]);
    assert.deepEqual(r.log.eventNames, ["view", "buy"]);
    await assert.rejects(
      readInteractions(p, { columns: { user: "user_id", item: "movie" } }),
      code(
        "RK_ERR_DATA_MISSING_COLUMN",
        /column "movie" \(item\) not found; schema has: user_id, item_id, ts, rating, event/,
      ),
    );
  });

  test("bad value → row number and field; skipBadRows", async () => {
    const p = join(dir, "y.parquet");
    writeTinyParquet(p, [
      { name: "u", type: "string", values: ["a", "b"] },
      { name: "i", type: "string", values: ["x", "y"] },
      { name: "w", type: "string", values: ["1", "nope"] },
    ]);
    await assert.rejects(
      readInteractions(p, { columns: { user: "u", item: "i", weight: "w" } }),
      code("RK_ERR_DATA_PARSE", /y\.parquet:2: field "w": "nope" is not a number/),
    );
    const r = await readInteractions(p, {
      columns: { user: "u", item: "i", weight: "w" },
      skipBadRows: true,
    });
    assert.equal(r.skipped, 1);
    assert.equal(r.log.length, 1);
  });
});

test("splitFields inverts csvField joins (fast-check, seed 42)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: fc.constantFrom("a", ",", '"', "x", " ", ";", "é") }), {
        minLength: 1,
        maxLength: 6,
      }),
      (fields) => {
        const line = fields.map((f) => csvField(f)).join(",");
        assert.deepEqual(splitFields(line, ","), fields);
      },
    ),
    { seed: 42, numRuns: 300 },
  );
});
