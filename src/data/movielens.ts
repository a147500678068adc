/**
 * MovieLens loaders: 100k (`u.data`, `u.item`, `u.user`, `u.genre`; latin-1), 1M (`ratings.dat`,
 * `movies.dat`, `users.dat`; `::`, latin-1) and latest/latest-small (`ratings.csv`, `movies.csv`,
 * `tags.csv`; UTF-8, CRLF). Users and items are the ids that occur in the ratings, numbered in
 * ascending id order (ml-100k: index = id − 1). Side information becomes attributes:
 * items "genre" (multi), "year", "tag" (multi, latest only); users "age" (band), "gender",
 * "occupation" (100k, 1M).
 */
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { RecallkitError } from "../errors.ts";
import type { AttributeField } from "../types.ts";
import { AttributeBuilder } from "./attributes.ts";
import type { LoadedDataset, ReadReport } from "./ingest.ts";
import { sortIdMap } from "./interactions.ts";
import { readDelimited } from "./readers.ts";
import { sessionize } from "./sessions.ts";
import { readSideFile } from "./side-files.ts";

export interface MovieLensOptions {
  /** Keep only ratings ≥ this and drop the weights (implicit feedback, e.g. 4); default keeps
   * every rating with weight = rating. */
  readonly minRating?: number;
  /** Cut sessions by this inactivity gap (seconds) after loading; default: no sessions. */
  readonly sessionGapSec?: number;
  readonly skipBadRows?: boolean;
  /** Dataset name (default the folder name). */
  readonly name?: string;
}

export type MovieLensVariant = "100k" | "1m" | "latest";

/** Which MovieLens layout `dir` holds, or null. */
export function detectMovieLens(dir: string): MovieLensVariant | null {
  if (existsSync(join(dir, "u.data"))) return "100k";
  if (existsSync(join(dir, "ratings.dat"))) return "1m";
  if (existsSync(join(dir, "ratings.csv"))) return "latest";
  return null;
}

/** ML-1M age codes → bands; ml-100k ages are mapped to the same bands. */
const AGE_1M: Record<string, string> = {
  "1": "Under 18",
  "18": "18-24",
  "25": "25-34",
  "35": "35-44",
  "45": "45-49",
  "50": "50-55",
  "56": "56+",
};
export function ageBand(age: number): string {
  if (age < 18) return "Under 18";
  if (age < 25) return "18-24";
  if (age < 35) return "25-34";
  if (age < 45) return "35-44";
  if (age < 50) return "45-49";
  if (age < 56) return "50-55";
  return "56+";
}

const OCCUPATION_1M = [
  "other",
  "academic/educator",
  "artist",
  "clerical/admin",
  "college/grad student",
  "customer service",
  "doctor/health care",
  "executive/managerial",
  "farmer",
  "homemaker",
  "K-12 student",
  "lawyer",
  "programmer",
  "retired",
  "sales/marketing",
  "scientist",
  "self-employed",
  "technician/engineer",
  "tradesman/craftsman",
  "unemployed",
  "writer",
];

const GENRES_100K = [
  "unknown",
  "Action",
  "Adventure",
  "Animation",
  "Children's",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Film-Noir",
  "Horror",
  "Musical",
  "Mystery",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "War",
  "Western",
];

const YEAR_IN_TITLE = /\((\d{4})\)\s*$/;

/**
 * Loads a MovieLens folder (100k, 1M or latest/latest-small, detected from the file names).
 * @example const ml = await loadMovieLens("data/ml-100k", { minRating: 4 });
 */
export async function loadMovieLens(dir: string, opts: MovieLensOptions = {}): Promise<LoadedDataset> {
  const variant = detectMovieLens(dir);
  if (variant === null) {
    throw new RecallkitError(
      "RK_ERR_DATASET_UNKNOWN",
      `${dir}: no MovieLens ratings file (looked for u.data, ratings.dat, ratings.csv)`,
    );
  }
  const latin1 = variant !== "latest";
  const ratingsFile = join(
    dir,
    variant === "100k" ? "u.data" : variant === "1m" ? "ratings.dat" : "ratings.csv",
  );
  const binary = opts.minRating !== undefined;
  const common = {
    encoding: latin1 ? ("latin1" as const) : ("utf8" as const),
    skipBadRows: opts.skipBadRows ?? false,
    binary,
    ...(binary ? { minWeight: opts.minRating as number } : {}),
  };
  const r =
    variant === "latest"
      ? await readDelimited(ratingsFile, {
          ...common,
          delimiter: ",",
          columns: { user: "userId", item: "movieId", weight: "rating", ts: "timestamp" },
        })
      : await readDelimited(ratingsFile, {
          ...common,
          delimiter: variant === "100k" ? "\t" : "::",
          header: false,
          columns: { user: 0, item: 1, weight: 2, ts: 3 },
        });
  const users = sortIdMap(r.users, [r.log.users]);
  const items = sortIdMap(r.items, [r.log.items]);
  const reports: (ReadReport & { file: string })[] = [{ file: ratingsFile, ...pick(r) }];
  const genre = new AttributeBuilder("genre", true);
  const year = new AttributeBuilder("year", false);
  const skip = opts.skipBadRows === true;
  const itemAttrs: AttributeField[] = [];
  const userAttrs: AttributeField[] = [];

  if (variant === "100k") {
    let genres = GENRES_100K;
    const genreFile = join(dir, "u.genre");
    if (existsSync(genreFile)) {
      const g: string[] = [];
      await readSideFile(
        genreFile,
        { encoding: "latin1", delimiter: "|", header: false, minFields: 2 },
        (f) => {
          g[Number(f[1])] = f[0];
        },
      );
      genres = g;
    }
    const itemFile = join(dir, "u.item");
    if (existsSync(itemFile)) {
      reports.push(
        await readSideFile(
          itemFile,
          {
            encoding: "latin1",
            delimiter: "|",
            header: false,
            minFields: 5 + genres.length,
            skipBadRows: skip,
          },
          (f) => {
            const i = items.indexOf(f[0]);
            if (i < 0) return;
            for (let g = 0; g < genres.length; g++) if (f[5 + g] === "1") genre.add(i, genres[g]);
            const m = /(\d{4})$/.exec(f[2]);
            if (m !== null) year.add(i, m[1]);
          },
        ),
      );
      itemAttrs.push(genre.build(items.size), year.build(items.size));
    }
    const userFile = join(dir, "u.user");
    if (existsSync(userFile)) {
      const age = new AttributeBuilder("age", false);
      const gender = new AttributeBuilder("gender", false);
      const occ = new AttributeBuilder("occupation", false);
      reports.push(
        await readSideFile(
          userFile,
          { encoding: "latin1", delimiter: "|", header: false, minFields: 4, skipBadRows: skip },
          (f) => {
            const u = users.indexOf(f[0]);
            if (u < 0) return;
            const a = Number(f[1]);
            if (f[1] !== "" && Number.isFinite(a)) age.add(u, ageBand(a));
            gender.add(u, f[2]);
            occ.add(u, f[3]);
          },
        ),
      );
      userAttrs.push(age.build(users.size), gender.build(users.size), occ.build(users.size));
    }
  } else {
    const moviesFile = join(dir, variant === "1m" ? "movies.dat" : "movies.csv");
    if (existsSync(moviesFile)) {
      reports.push(
        await readSideFile(
          moviesFile,
          {
            encoding: latin1 ? "latin1" : "utf8",
            delimiter: variant === "1m" ? "::" : ",",
            header: variant === "latest",
            minFields: 3,
            skipBadRows: skip,
          },
          (f) => {
            const i = items.indexOf(f[0]);
            if (i < 0) return;
            // A title may itself hold the delimiter in 1M files; genres are the last field.
            const genres = f[f.length - 1];
            const title = f.slice(1, f.length - 1).join(variant === "1m" ? "::" : ",");
            if (genres !== "(no genres listed)") for (const g of genres.split("|")) genre.add(i, g);
            const m = YEAR_IN_TITLE.exec(title);
            if (m !== null) year.add(i, m[1]);
          },
        ),
      );
      itemAttrs.push(genre.build(items.size), year.build(items.size));
    }
    if (variant === "1m") {
      const userFile = join(dir, "users.dat");
      if (existsSync(userFile)) {
        const age = new AttributeBuilder("age", false);
        const gender = new AttributeBuilder("gender", false);
        const occ = new AttributeBuilder("occupation", false);
        reports.push(
          await readSideFile(
            userFile,
            { encoding: "latin1", delimiter: "::", header: false, minFields: 4, skipBadRows: skip },
            (f) => {
              const u = users.indexOf(f[0]);
              if (u < 0) return;
              gender.add(u, f[1]);
              age.add(u, AGE_1M[f[2]] ?? f[2]);
              occ.add(u, OCCUPATION_1M[Number(f[3])] ?? f[3]);
            },
          ),
        );
        userAttrs.push(age.build(users.size), gender.build(users.size), occ.build(users.size));
      }
    } else {
      const tagFile = join(dir, "tags.csv");
      if (existsSync(tagFile)) {
        // Tags are free text: trimmed and lower-cased so "Funny" and "funny " are one value.
        const tag = new AttributeBuilder("tag", true);
        reports.push(
          await readSideFile(
            tagFile,
            { delimiter: ",", header: true, minFields: 3, skipBadRows: skip },
            (f) => {
              const i = items.indexOf(f[1]);
              if (i >= 0) tag.add(i, f[2].trim().toLowerCase());
            },
          ),
        );
        itemAttrs.push(tag.build(items.size));
      }
    }
  }
  const train = opts.sessionGapSec === undefined ? r.log : sessionize(r.log, { gapSec: opts.sessionGapSec });
  return {
    name: opts.name ?? basename(resolve(dir)),
    users,
    items,
    train,
    test: null,
    itemAttributes: new Map(itemAttrs.map((f) => [f.name, f])),
    userAttributes: new Map(userAttrs.map((f) => [f.name, f])),
    itemStats: null,
    report: { files: reports },
  };
}

export function pick(r: ReadReport): ReadReport {
  return { rows: r.rows, skipped: r.skipped, filtered: r.filtered, firstErrors: r.firstErrors };
}
