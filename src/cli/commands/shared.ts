/** Pieces shared by CLI commands: loading the dataset named on the command line. */
import { resolveDataset } from "../../data/index.ts";
import { RecallkitError } from "../../errors.ts";
import type { Dataset } from "../../types.ts";

export async function datasetFrom(
  values: {
    dataset?: string | undefined;
    "data-dir"?: string | undefined;
    "skip-bad-rows"?: boolean | undefined;
  },
  positional?: string,
): Promise<Dataset> {
  const name = values.dataset ?? positional;
  if (name === undefined)
    throw new RecallkitError(
      "RK_ERR_INVALID_ARGUMENT",
      "no dataset given: pass --dataset NAME|PATH (e.g. synthetic, ml-100k, gowalla)",
    );
  const t0 = performance.now();
  const ds = await resolveDataset(name, {
    ...(values["data-dir"] === undefined ? {} : { dataDir: values["data-dir"] }),
    ...(values["skip-bad-rows"] ? { skipBadRows: true } : {}),
  });
  process.stderr.write(
    `dataset ${ds.name}: ${ds.users.size} users, ${ds.items.size} items, ${ds.train.length} train rows (${((performance.now() - t0) / 1000).toFixed(1)}s)\n`,
  );
  // Nothing is dropped silently: say what skipBadRows skipped and what filters left out.
  for (const f of ds.report?.files ?? []) {
    if (f.skipped > 0) {
      process.stderr.write(
        `${f.file}: skipped ${f.skipped} of ${f.rows} rows (--skip-bad-rows); first errors:\n`,
      );
      for (const e of f.firstErrors) process.stderr.write(`  ${e}\n`);
    }
    if (f.filtered > 0)
      process.stderr.write(`${f.file}: left out ${f.filtered} of ${f.rows} rows by filters\n`);
  }
  return ds;
}
