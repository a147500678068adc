import assert from "node:assert/strict";
import { test } from "node:test";
import { splitRandom, withSplit } from "../data/split.ts";
import { synthesize } from "../data/synthetic.ts";
import { Popular } from "../recall/popular.ts";
import type { ChannelReport } from "./channels.ts";
import { evaluateChannels } from "./channels.ts";

test("evaluateChannels hands each report to onReport as soon as it is measured, in order", async () => {
  const log = synthesize({ seed: 3, nUsers: 120, nItems: 80 });
  const data = withSplit(log, splitRandom(log.train, { seed: 1 }));
  const seen: string[] = [];
  const streamed: ChannelReport[] = [];
  // the second model's fit records how many reports had been streamed before it started
  const late = new Popular();
  const fit = late.fit.bind(late);
  late.fit = async (d) => {
    seen.push(`fit b after ${streamed.length} reports`);
    return fit(d);
  };
  const r = await evaluateChannels(
    data,
    [
      { name: "a", model: new Popular() },
      { name: "b", model: late },
    ],
    { ks: [10], mergeK: 20, strategies: ["roundRobin", "priority"], onReport: (x) => streamed.push(x) },
  );
  assert.deepEqual(seen, ["fit b after 1 reports"]);
  assert.deepEqual(
    streamed.map((x) => x.name),
    ["a", "b", "merge/roundRobin", "merge/priority"],
  );
  assert.deepEqual(streamed, [...r.channels, ...r.merged]);
});
