/** One benchmark result, printed as one JSON line by `npm run bench -- <suite> --json`. */
export interface BenchResult {
  suite: string;
  dataset: string;
  model: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  seconds: Record<string, number>;
  peakRssMB: number;
  /** Anything else worth recording (throughput, GFLOP/s, peer figures, ratios). */
  extra?: Record<string, unknown>;
}

export interface BenchContext {
  /** Folder holding the named datasets (RECALLKIT_DATA or --data-dir), if any. */
  readonly dataDir: string | undefined;
  /** Raw suite arguments after the suite name (e.g. ["--dataset", "gowalla"]). */
  readonly args: readonly string[];
  /** Report one result as soon as it is known (printed immediately). */
  emit(result: BenchResult): void;
  /** Human-readable progress line (stderr). */
  log(msg: string): void;
}

/** A suite is a module `bench/suites/<name>.ts` exporting `run`. */
export type BenchSuite = (ctx: BenchContext) => Promise<void>;
