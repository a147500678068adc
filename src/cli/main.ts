#!/usr/bin/env node
/** `recallkit <command>`: data, train, eval, recommend, serve, bench, demo. */
import { RecallkitError } from "../errors.ts";

const commands: Record<
  string,
  { summary: string; load: () => Promise<{ run(argv: string[]): Promise<void> }> }
> = {
  data: { summary: "inspect | synth | split | convert datasets", load: () => import("./commands/data.ts") },
  train: { summary: "fit a model and save its artifact", load: () => import("./commands/train.ts") },
  eval: {
    summary: "full-ranking evaluation of models and their merge",
    load: () => import("./commands/eval.ts"),
  },
  recommend: {
    summary: "top-k items for a user or a recent history from a saved model",
    load: () => import("./commands/recommend.ts"),
  },
  serve: {
    summary: "serve the channels of a recall.yaml over HTTP (recall, events, metrics, page)",
    load: () => import("./commands/serve.ts"),
  },
  bench: {
    summary: "run a benchmark suite (repo checkouts only)",
    load: () => import("./commands/bench.ts"),
  },
  demo: {
    summary: "train, evaluate and query every channel on the synthetic dataset",
    load: () => import("./commands/demo.ts"),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `usage: recallkit <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nrun "recallkit <command> --help" for a command's options`;
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
  console.log(usage());
} else if (!(cmd in commands)) {
  console.error(`recallkit: unknown command "${cmd}"\n\n${usage()}`);
  process.exitCode = 2;
} else {
  try {
    await (await commands[cmd].load()).run(rest);
  } catch (err) {
    if (err instanceof RecallkitError) {
      console.error(`recallkit ${cmd}: ${err.message} [${err.code}]`);
      process.exitCode = 1;
    } else throw err;
  }
}
