/** `recallkit train --dataset D --model M [--param key=v] --out DIR` or `recallkit train --config recall.yaml` */
import { join } from "node:path";
import { RecallkitError } from "../../errors.ts";
import { writeFileAtomic } from "../../io/artifact.ts";
import { createModel, modelEntry, modelNames } from "../../registry.ts";
import { loadConfig } from "../../serve/config.ts";
import { trainFromConfig } from "../../serve/pipeline.ts";
import { paramsFor, parse } from "../args.ts";
import { datasetFrom } from "./shared.ts";

const HELP = `usage: recallkit train --dataset NAME|PATH --model NAME [--param key=value ...] --out DIR
       recallkit train --config recall.yaml [--model KEY,KEY]

Fits a model on the dataset's training split and saves it as an artifact directory
(manifest.json + .npy payloads) plus ids.json (external user/item ids), written atomically.
With --config, fits every model the config's channels use (or only the --model keys) on its
dataset, saving each under its artifact directory, plus the catalogue the service reads.

models: ${modelNames()
  .map(
    (n) =>
      `\n  ${n.padEnd(15)} ${modelEntry(n).summary}\n  ${"".padEnd(15)} options: ${modelEntry(n).options.join(", ")}`,
  )
  .join("")}`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    dataset: { type: "string" },
    model: { type: "string" },
    param: { type: "string", multiple: true },
    out: { type: "string" },
    config: { type: "string" },
  });
  if (values.help) return void console.log(HELP);
  if (values.config !== undefined) return trainConfig(values.config, values.model, values.json === true);
  if (values.model === undefined)
    throw new RecallkitError(
      "RK_ERR_INVALID_ARGUMENT",
      `no model given: pass --model NAME (${modelNames().join(", ")})`,
    );
  if (values.out === undefined)
    throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", "no output given: pass --out DIR");
  const model = createModel(values.model, paramsFor([values.model], values.param ?? []).get(values.model));
  const ds = await datasetFrom(values);
  const t0 = performance.now();
  await model.fit(ds);
  const sec = (performance.now() - t0) / 1000;
  await model.save(values.out);
  await writeFileAtomic(
    join(values.out, "ids.json"),
    JSON.stringify({ dataset: ds.name, users: ds.users.ids(), items: ds.items.ids() }),
  );
  const summary = {
    model: values.model,
    dataset: ds.name,
    out: values.out,
    params: model.params(),
    seconds: { train: sec },
  };
  console.log(
    values.json
      ? JSON.stringify(summary)
      : `trained ${values.model} on ${ds.name} in ${sec.toFixed(1)}s → ${values.out}`,
  );
}

async function trainConfig(file: string, only: string | undefined, json: boolean): Promise<void> {
  const config = await loadConfig(file);
  const r = await trainFromConfig(config, {
    ...(only === undefined ? {} : { only: only.split(",") }),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  if (json) for (const m of r.models) console.log(JSON.stringify({ dataset: r.dataset, ...m }));
  else
    console.log(
      `trained ${r.models.length} model(s) on ${r.dataset}: ${r.models.map((m) => `${m.key} ${m.seconds.toFixed(1)}s`).join(", ")}; catalogue → ${r.catalogue}`,
    );
}
