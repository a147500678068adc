/**
 * Glue around the SGNS kernel (sgns.ts): allocates the two tables (in SharedArrayBuffers when
 * workers > 0), builds the negative alias table, shuffles the sequence order each epoch with the
 * seeded Rng, and runs the kernel in-process (`workers: 0`, exact and deterministic) or Hogwild
 * across worker threads (races as documented in hogwild.ts: plain f32 stores on shared rows,
 * lost updates accepted; results are not bit-reproducible with ≥ 2 workers). The arithmetic runs
 * in the WASM SIMD kernel (sgns-wasm.ts: both tables in one shared WebAssembly.Memory) where the
 * runtime has it, else in the JS reference kernel (`kernel: "js"` forces that).
 */
import { assert } from "../errors.ts";
import { AliasTable } from "../math/alias.ts";
import { Rng } from "../math/rng.ts";
import { WorkerPool, workerUrl } from "../workers.ts";
import {
  JsPairKernel,
  maxSequenceLength,
  type PairKernel,
  type SgnsConfig,
  type SgnsCorpus,
  SgnsScratch,
  sgnsRange,
  sliceByWords,
} from "./sgns.ts";
import { createSgnsLayout, type SgnsWasmLayout, sgnsTables, WasmPairKernel } from "./sgns-wasm.ts";

/** "wasm" (default; falls back to "js" where unsupported) or "js" (the reference kernel). */
export type SgnsKernel = "wasm" | "js";

export interface SgnsRun {
  readonly nTokens: number;
  readonly corpus: SgnsCorpus;
  readonly config: SgnsConfig;
  /** Negative-sampling weights per token (F^b; 0 = never drawn). */
  readonly negWeights: Float64Array;
  readonly workers: number;
  readonly seed: number;
  /** Default "wasm". */
  readonly kernel?: SgnsKernel | undefined;
  readonly onEpoch?: (epoch: number, seconds: number, effectiveWords: number) => void;
}

export interface SgnsResult {
  readonly syn0: Float32Array;
  readonly syn1: Float32Array;
  readonly seconds: number;
  /** Kept (after subsampling) tokens over all epochs, word2vec's "effective words". */
  readonly effectiveWords: number;
  readonly rawWords: number;
  /** The kernel that ran. */
  readonly kernel: SgnsKernel;
}

/** What each Hogwild worker gets once (all views over SharedArrayBuffers). */
export interface SgnsWorkerInit {
  /** The tables for the JS kernel (SharedArrayBuffer views), or null with `wasm`. */
  readonly syn0: Float32Array | null;
  readonly syn1: Float32Array | null;
  /** The shared WASM memory: worker i runs the WASM kernel on slot i. */
  readonly wasm: SgnsWasmLayout | null;
  readonly corpus: SgnsCorpus;
  readonly config: SgnsConfig;
  readonly negWeights: Float64Array;
  readonly order: Int32Array;
  readonly maxLen: number;
}

export interface SgnsJob {
  readonly from: number;
  readonly to: number;
  readonly epoch: number;
  readonly sliceWords: number;
  readonly seed: number;
  /** Worker index (its scratch slot in the WASM memory). */
  readonly slot: number;
}

function shared<T extends Int32Array | Float32Array | Float64Array>(a: T, on: boolean): T {
  if (!on || a.buffer instanceof SharedArrayBuffer) return a;
  const C = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new C(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

function shareCorpus(c: SgnsCorpus, on: boolean): SgnsCorpus {
  const opt = <T extends Int32Array | Float32Array>(a: T | null) => (a === null ? null : shared(a, on));
  return {
    offsets: shared(c.offsets, on),
    tokens: shared(c.tokens, on),
    keep: opt(c.keep),
    globalCtx: opt(c.globalCtx),
    market: opt(c.market),
    marketOffsets: opt(c.marketOffsets),
    marketItems: opt(c.marketItems),
    hardOffsets: opt(c.hardOffsets),
    hardItems: opt(c.hardItems),
  };
}

/**
 * Runs all epochs; returns the trained tables. syn0 ~ U(−0.5, 0.5)/dim (word2vec.c) or U(−1, 1)/dim
 * (`style: "gensim"`), syn1 = 0.
 */
export async function trainSgns(r: SgnsRun): Promise<SgnsResult> {
  const { dim, epochs } = r.config;
  assert(
    r.workers >= 0 && Number.isInteger(r.workers),
    () => `workers must be an integer ≥ 0, got ${r.workers}`,
  );
  const on = r.workers > 0;
  const rng = new Rng(r.seed);
  const layout = r.kernel === "js" ? null : createSgnsLayout(r.nTokens, dim, Math.max(1, r.workers));
  const tables = layout === null ? null : sgnsTables(layout);
  const syn0 = tables?.syn0 ?? shared(new Float32Array(r.nTokens * dim), on);
  const gensim = r.config.style === "gensim";
  const initScale = gensim ? 2 : 1; // U(−1, 1)/dim (gensim 4) or U(−0.5, 0.5)/dim (word2vec.c)
  for (let i = 0; i < syn0.length; i++) syn0[i] = ((rng.next() - 0.5) * initScale) / dim;
  const syn1 = tables?.syn1 ?? shared(new Float32Array(r.nTokens * dim), on);
  const corpus = shareCorpus(r.corpus, on);
  const nSeq = corpus.offsets.length - 1;
  const order = shared(
    Int32Array.from({ length: nSeq }, (_, s) => s),
    on,
  );
  const rawPerEpoch = corpus.offsets[nSeq];
  const maxLen = maxSequenceLength(corpus.offsets);
  let effective = 0;
  const t0 = performance.now();
  if (!on) {
    const alias = new AliasTable(r.negWeights);
    const sc = new SgnsScratch(maxLen, dim, 1 + r.config.negative + r.config.nHard + r.config.nMarket);
    const kernel: PairKernel =
      layout === null
        ? new JsPairKernel(syn0, syn1, dim, undefined, gensim)
        : new WasmPairKernel(layout, 0, gensim);
    for (let ep = 0; ep < epochs; ep++) {
      const te = performance.now();
      rng.shuffle(order);
      const eff = sgnsRange(
        syn0,
        syn1,
        corpus,
        r.config,
        alias,
        order,
        0,
        nSeq,
        ep,
        rawPerEpoch,
        rng,
        sc,
        kernel,
      );
      effective += eff;
      r.onEpoch?.(ep + 1, (performance.now() - te) / 1000, eff);
    }
  } else {
    const init: SgnsWorkerInit = {
      syn0: layout === null ? syn0 : null,
      syn1: layout === null ? syn1 : null,
      wasm: layout,
      corpus,
      config: r.config,
      negWeights: shared(r.negWeights, true),
      order,
      maxLen,
    };
    const pool = await WorkerPool.start<SgnsJob>(
      workerUrl("./sgns.worker", import.meta.url),
      r.workers,
      init,
    );
    try {
      for (let ep = 0; ep < epochs; ep++) {
        const te = performance.now();
        rng.shuffle(order);
        const cuts = sliceByWords(order, corpus.offsets, r.workers);
        const seedBase = rng.nextU32();
        const replies = await pool.all<{ effective?: number }>((i) => {
          let w = 0;
          for (let p = cuts[i]; p < cuts[i + 1]; p++)
            w += corpus.offsets[order[p] + 1] - corpus.offsets[order[p]];
          return {
            from: cuts[i],
            to: cuts[i + 1],
            epoch: ep,
            sliceWords: w,
            seed: (seedBase + i) >>> 0,
            slot: i,
          };
        });
        const eff = replies.reduce((a, m) => a + (m.effective ?? 0), 0);
        effective += eff;
        r.onEpoch?.(ep + 1, (performance.now() - te) / 1000, eff);
      }
    } finally {
      await pool.close();
    }
  }
  // copies off the shared memory, so that the (large) WASM memory is not kept alive by callers
  return {
    syn0: layout === null ? syn0 : syn0.slice(),
    syn1: layout === null ? syn1 : syn1.slice(),
    kernel: layout === null ? "js" : "wasm",
    seconds: (performance.now() - t0) / 1000,
    effectiveWords: effective,
    rawWords: rawPerEpoch * epochs,
  };
}
