/**
 * The row sink every reader feeds: converts raw field values (strings from CSV, JSON values,
 * Parquet values) into one columnar log and its id maps, and keeps the bad-row report.
 * A row is fully parsed before any id map changes, so a skipped row leaves no trace.
 */
import { dataError, RecallkitError } from "../errors.ts";
import type { Dataset, Interactions } from "../types.ts";
import { IdMap } from "./id-map.ts";
import { InteractionsBuilder } from "./interactions.ts";

/** A column by header name, or by 0-based index (header-less files). */
export type ColumnRef = string | number;

/** Which input columns hold each interaction field; `user` and `item` are required. */
export interface ColumnMapping {
  readonly user: ColumnRef;
  readonly item: ColumnRef;
  /** Time: a number (unix seconds, or ms with `tsUnit: "ms"`) or an ISO date string. */
  readonly ts?: ColumnRef;
  /** Event name (open string: "view", "purchase", ...). */
  readonly event?: ColumnRef;
  /** Rating / count / weight (a number). */
  readonly weight?: ColumnRef;
  /** External session id (any string); interned into `sessionIds`. */
  readonly session?: ColumnRef;
}

export type Role = keyof ColumnMapping;
export const ROLES: readonly Role[] = ["user", "item", "ts", "event", "weight", "session"];

/** Options shared by every interaction reader. */
export interface IngestOptions {
  /** Unit of numeric timestamps (default "s"). ISO date strings are always accepted. */
  readonly tsUnit?: "s" | "ms";
  /** Count bad rows and keep going instead of throwing on the first (default false). */
  readonly skipBadRows?: boolean;
  /** How many bad-row messages to keep in `firstErrors` (default 10). */
  readonly maxErrors?: number;
  /** Keep only rows with weight ≥ this (needs a weight column); the rest count as `filtered`. */
  readonly minWeight?: number;
  /** Drop the weight column after filtering (implicit feedback; default false). */
  readonly binary?: boolean;
  /** Id maps to extend (share them between train and test files); new ones otherwise. */
  readonly users?: IdMap;
  readonly items?: IdMap;
  readonly sessionIds?: IdMap;
  readonly eventNames?: IdMap;
}

/** What happened to the rows of one read: nothing is dropped silently. */
export interface ReadReport {
  /** Data rows seen (blank lines and the header excluded). */
  readonly rows: number;
  /** Rows that failed to parse and were skipped (`skipBadRows`). */
  readonly skipped: number;
  /** Rows left out on purpose (`minWeight`). */
  readonly filtered: number;
  /** The first `maxErrors` parse errors, as `file:line: field "x": message`. */
  readonly firstErrors: readonly string[];
}

export interface ReadResult extends ReadReport {
  readonly log: Interactions;
  readonly users: IdMap;
  readonly items: IdMap;
  /** External session ids (index = `log.sessions` value); null without a session column. */
  readonly sessionIds: IdMap | null;
}

export type RawValue = string | number | bigint | boolean | Date | null | undefined;

export class Ingest {
  readonly users: IdMap;
  readonly items: IdMap;
  readonly sessionIds: IdMap | null;
  readonly b: InteractionsBuilder;
  readonly names: Record<Role, string>;
  rows = 0;
  skipped = 0;
  filtered = 0;
  readonly firstErrors: string[] = [];
  private readonly msPerUnit: number;
  private readonly skip: boolean;
  private readonly maxErrors: number;
  private readonly minWeight: number;

  constructor(
    readonly file: string,
    readonly has: Readonly<Record<Role, boolean>>,
    readonly opts: IngestOptions,
    /** Display name of each role in messages (the column name, or the role for index refs). */
    names: Partial<Record<Role, string>>,
  ) {
    this.users = opts.users ?? new IdMap();
    this.items = opts.items ?? new IdMap();
    this.sessionIds = has.session ? (opts.sessionIds ?? new IdMap()) : null;
    const weights = has.weight && opts.binary !== true;
    this.b = new InteractionsBuilder(
      { weights, ts: has.ts, events: has.event, sessions: has.session },
      4096,
      opts.eventNames ?? new IdMap(),
    );
    this.names = {
      user: "user",
      item: "item",
      ts: "ts",
      event: "event",
      weight: "weight",
      session: "session",
    };
    for (const r of ROLES) {
      const n = names[r];
      if (n !== undefined) this.names[r] = n;
    }
    this.msPerUnit = opts.tsUnit === "ms" ? 1000 : 1;
    this.skip = opts.skipBadRows === true;
    this.maxErrors = opts.maxErrors ?? 10;
    this.minWeight = opts.minWeight ?? Number.NEGATIVE_INFINITY;
    if (opts.minWeight !== undefined && !has.weight) {
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `${file}: minWeight needs a weight column in the mapping`,
      );
    }
  }

  /** Parses and appends one row; parse errors go through `fail`. */
  row(
    line: number,
    user: RawValue,
    item: RawValue,
    ts: RawValue,
    event: RawValue,
    weight: RawValue,
    session: RawValue,
  ): void {
    this.rows++;
    try {
      const u = this.id(line, "user", user);
      const i = this.id(line, "item", item);
      const w = this.has.weight ? this.num(line, "weight", weight) : 1;
      const t = this.has.ts ? this.time(line, ts) : 0;
      const ev = this.has.event ? this.id(line, "event", event) : "";
      const s = this.has.session ? this.id(line, "session", session) : "";
      if (w < this.minWeight) {
        this.filtered++;
        return;
      }
      this.b.push(
        this.users.add(u),
        this.items.add(i),
        w,
        t,
        this.has.event ? this.b.event(ev) : 0,
        this.sessionIds !== null ? this.sessionIds.add(s) : 0,
      );
    } catch (err) {
      this.fail(err);
    }
  }

  /** Rethrows unless skipping bad rows; records the message. */
  fail(err: unknown): void {
    if (!this.skip || !(err instanceof RecallkitError) || err.code !== "RK_ERR_DATA_PARSE") throw err;
    this.skipped++;
    if (this.firstErrors.length < this.maxErrors) this.firstErrors.push(err.message);
  }

  /** A parse error for a whole row (bad JSON, too few fields). */
  rowError(line: number, message: string): RecallkitError {
    return new RecallkitError("RK_ERR_DATA_PARSE", `${this.file}:${line}: ${message}`);
  }

  private id(line: number, role: Role, v: RawValue): string {
    if (typeof v === "string") {
      if (v.length === 0) throw dataError(this.file, line, this.names[role], "is empty");
      return v;
    }
    if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
    throw dataError(
      this.file,
      line,
      this.names[role],
      v == null ? "is missing" : `${String(v)} is not an id`,
    );
  }

  private num(line: number, role: Role, v: RawValue): number {
    if (typeof v === "number") {
      if (Number.isFinite(v)) return v;
    } else if (typeof v === "bigint") return Number(v);
    else if (typeof v === "string") {
      const x = Number(v);
      if (Number.isFinite(x) && (x !== 0 || v.trim().length > 0)) return x;
      throw dataError(this.file, line, this.names[role], `${JSON.stringify(v)} is not a number`);
    }
    throw dataError(
      this.file,
      line,
      this.names[role],
      v == null ? "is missing" : `${String(v)} is not a number`,
    );
  }

  private time(line: number, v: RawValue): number {
    if (v instanceof Date) {
      const ms = v.getTime();
      if (Number.isFinite(ms)) return ms / 1000;
    } else if (typeof v === "number" || typeof v === "bigint") {
      const x = Number(v);
      if (Number.isFinite(x)) return x / this.msPerUnit;
    } else if (typeof v === "string" && v.length > 0) {
      const x = Number(v);
      if (Number.isFinite(x) && v.trim().length > 0) return x / this.msPerUnit;
      const ms = Date.parse(v);
      if (Number.isFinite(ms)) return ms / 1000;
      throw dataError(this.file, line, this.names.ts, `${JSON.stringify(v)} is not a number or an ISO date`);
    }
    throw dataError(
      this.file,
      line,
      this.names.ts,
      v == null || v === "" ? "is missing" : `${String(v)} is not a time`,
    );
  }

  /** Finishes the read: RK_ERR_DATA_EMPTY when no row survived parsing. */
  finish(): ReadResult {
    if (this.b.length === 0 && this.filtered === 0) {
      const why =
        this.rows === 0
          ? "holds no data rows"
          : `has ${this.rows} rows but all were bad (first: ${this.firstErrors[0] ?? "?"})`;
      throw new RecallkitError("RK_ERR_DATA_EMPTY", `${this.file}: ${why}`);
    }
    return {
      log: this.b.build(),
      users: this.users,
      items: this.items,
      sessionIds: this.sessionIds,
      rows: this.rows,
      skipped: this.skipped,
      filtered: this.filtered,
      firstErrors: this.firstErrors,
    };
  }
}

/** Per-file read reports of a loader (in read order). */
export interface LoadReport {
  readonly files: readonly (ReadReport & { readonly file: string })[];
}

/** A `Dataset` plus what its loader skipped or filtered in each file. */
export type LoadedDataset = Dataset & { readonly report: LoadReport };
