/** `recallkit data inspect|synth|split|convert` */
import {
  inspectDataset,
  resolveDataset,
  splitLeaveLastOut,
  splitRandom,
  synthesize,
  withSplit,
  writeCsvDataset,
} from "../../data/index.ts";
import { RecallkitError } from "../../errors.ts";
import { parse } from "../args.ts";
import { datasetFrom } from "./shared.ts";

const HELP = `usage: recallkit data <subcommand> [options]

  inspect <dataset>                 counts, density, popularity skew, sessions, attribute cardinalities
  synth --out DIR [--seed 42] [--users 2000] [--items 1000]
                                    write the deterministic synthetic dataset as CSV files
  split <dataset> --out DIR [--method random|leave-last-out] [--ratio 0.8] [--seed 42] [--n 1]
                                    split a dataset's training log and write train/test CSVs
  convert <dataset> --out DIR       write any supported dataset in the generic CSV layout

A dataset is a name (gowalla, ml-100k, ml-latest-small, ml-1m, diginetica, synthetic[:seed=7,users=5000])
resolved in $RECALLKIT_DATA or --data-dir, or a path to a folder. Add --json for machine output.`;

export async function run(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(rest, {
    dataset: { type: "string" },
    out: { type: "string" },
    seed: { type: "string", default: "42" },
    users: { type: "string", default: "2000" },
    items: { type: "string", default: "1000" },
    method: { type: "string", default: "random" },
    ratio: { type: "string", default: "0.8" },
    n: { type: "string", default: "1" },
  });
  if (sub === undefined || sub === "--help" || sub === "-h" || values.help) return void console.log(HELP);
  const needOut = (): string => {
    if (values.out === undefined)
      throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `data ${sub}: pass --out DIR`);
    return values.out;
  };
  switch (sub) {
    case "inspect": {
      const s = inspectDataset(await datasetFrom(values, positionals[0]));
      if (values.json) console.log(JSON.stringify(s));
      else {
        console.log(
          `${s.name}: ${s.users} users, ${s.items} items, ${s.interactions.train} train + ${s.interactions.test} test interactions`,
        );
        console.log(
          `  density ${s.density.toExponential(3)}; popularity skew (share on top 20% items) ${(s.popularitySkew * 100).toFixed(1)}%`,
        );
        console.log(
          `  items per user: mean ${s.itemsPerUser.mean.toFixed(1)}, median ${s.itemsPerUser.median}`,
        );
        if (s.events !== null)
          console.log(
            `  events: ${Object.entries(s.events)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ")}`,
          );
        if (s.sessions !== null) console.log(`  sessions: ${s.sessions}`);
        if (s.timeRange !== null) console.log(`  time: ${s.timeRange.from} .. ${s.timeRange.to}`);
        const card = (o: Record<string, number>) =>
          Object.entries(o)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ") || "(none)";
        console.log(`  item attributes: ${card(s.attributes.items)}`);
        console.log(`  user attributes: ${card(s.attributes.users)}`);
      }
      return;
    }
    case "synth": {
      const out = needOut();
      const ds = synthesize({
        seed: Number(values.seed),
        nUsers: Number(values.users),
        nItems: Number(values.items),
      });
      await writeCsvDataset(ds, out);
      console.log(
        values.json
          ? JSON.stringify({ out, users: ds.users.size, items: ds.items.size, interactions: ds.train.length })
          : `wrote ${ds.train.length} interactions (${ds.users.size} users, ${ds.items.size} items) to ${out}`,
      );
      return;
    }
    case "split": {
      const out = needOut();
      const name = values.dataset ?? positionals[0];
      if (name === undefined)
        throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", "data split: name a dataset");
      const ds = await resolveDataset(name, {
        ...(values["data-dir"] === undefined ? {} : { dataDir: values["data-dir"] }),
        split: false,
      });
      const split =
        values.method === "random"
          ? splitRandom(ds.train, { ratio: Number(values.ratio), seed: Number(values.seed) })
          : values.method === "leave-last-out"
            ? splitLeaveLastOut(ds.train, { n: Number(values.n) })
            : (() => {
                throw new RecallkitError(
                  "RK_ERR_INVALID_ARGUMENT",
                  `--method "${values.method}": expected random or leave-last-out`,
                );
              })();
      const s = withSplit(ds, split);
      await writeCsvDataset(s, out);
      console.log(
        values.json
          ? JSON.stringify({ out, train: s.train.length, test: s.test?.length ?? 0 })
          : `wrote ${s.train.length} train / ${s.test?.length ?? 0} test rows to ${out}`,
      );
      return;
    }
    case "convert": {
      const out = needOut();
      const ds = await datasetFrom(values, positionals[0]);
      await writeCsvDataset(ds, out);
      console.log(values.json ? JSON.stringify({ out }) : `wrote ${ds.name} to ${out}`);
      return;
    }
    default:
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `unknown data subcommand "${sub}" (inspect, synth, split, convert)`,
      );
  }
}
