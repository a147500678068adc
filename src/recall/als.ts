/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008) with the conjugate-gradient solver of Takács,
 * Pilászy & Tikk (2011): the matrix factorisation of spec §5.1.3, P = U Vᵀ, trained on every cell
 * (observed cells with confidence c_ui, the rest with weight 1 and preference 0):
 *
 *   min_{X,Y}  Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ (‖X‖² + ‖Y‖²)
 *
 * Alternating half-steps: with Y fixed each x_u approximately solves (YᵀC_uY + λI) x_u = YᵀC_u p(u)
 * by `cgSteps` conjugate-gradient steps warm-started from the previous x_u (see als-kernels.ts for
 * the sparse form, which never touches the nItems unobserved cells), then the same for items.
 * `solver: "cholesky"` solves each row exactly instead (f³/3 per row; for tests and small f).
 *
 * Speed. The rows of a half-step are independent: workers claim chunks of rows from a shared
 * counter over one shared memory (als-engine.ts). The CG row kernel is WebAssembly SIMD
 * (als-cg-wasm.wat, f32x4, f32 accumulation like implicit's BLAS calls), ~4× the float64 JS kernel
 * `cgSolveRows`, which stays as the fallback (`kernel: "js"`, or f % 4 ≠ 0). YᵀY is built in fixed
 * blocks of rows with the 4×8 GEMM micro-kernel of math/gemm-wasm.ts; blocks are summed in order,
 * so factors are bit-identical for any number of workers.
 *
 * The spec names MF's second weakness: it cannot score a user or item unseen in training. Fold-in
 * closes it: `foldInUser(items)` solves that same normal equation for a new row against the fixed
 * trained item factors (no retraining), exactly as a training half-step would; `foldInItem` is the
 * transpose. `recommendFromItems` is fold-in followed by scoring.
 *
 * Confidence conventions (say which one a figure uses):
 *   "hkv" (default):  c = 1 + α·s(r) — the paper. Default because it is the model the spec cites and
 *                     it is well posed for every α ≥ 0 and weight: an observed cell never weighs
 *                     less than an unobserved one (c ≥ 1), so YᵀC_uY ⪰ YᵀY, and α = 0 degrades
 *                     to plain unweighted MF instead of to c = 0 (observations ignored).
 *   "implicit":       c = α·s(r) — the `implicit` library (and its NumPy peer). At the α that works
 *                     on Gowalla (≈ 40) the two differ by one unit of confidence and give the same
 *                     Recall@20 (0.1519 both, 5 iterations).
 * s(r) = r ("linear") or log(1 + r/ε) ("log", the paper's eq. 6.1), with r = 1 per observed cell
 * (`values: "binary"`) or the summed interaction weight (`values: "weight"`).
 */
import type { Worker } from "node:worker_threads";
import { userItemCsr } from "../data/matrix.ts";
import { assert, RecallkitError } from "../errors.ts";
import { readArtifact, writeArtifact } from "../io/artifact.ts";
import { gemmNT, normalizeRows } from "../math/blas.ts";
import { type Csr, transposeCsr } from "../math/csr.ts";
import { createWasmGemm, GEMM_MR, GEMM_NR, packPanelsInto, type WasmGemm } from "../math/gemm-wasm.ts";
import { Rng } from "../math/rng.ts";
import { TopK, TopKHeap, topKRowInto } from "../math/topk.ts";
import type { Embeddings, Recommender, RecommendOptions } from "../recommender.ts";
import type { Dataset } from "../types.ts";
import { defaultWorkers, startWorker, workerUrl } from "../workers.ts";
import { alsWasmSupported } from "./als-cg-wasm.ts";
import {
  type AlsBuffers,
  AlsEngine,
  type AlsSide,
  type AlsTask,
  allocAlsBuffers,
  gramChunks,
  rowChunks,
} from "./als-engine.ts";
import { choleskySolveRowInto, gramAddInto, symmetrizeInto } from "./als-kernels.ts";

export type AlsConfidence = "hkv" | "implicit";

export interface AlsIterationInfo {
  /** 1-based iteration number. */
  readonly iteration: number;
  readonly iterations: number;
  /** Wall time of this iteration (both half-steps), seconds. */
  readonly seconds: number;
  /** Weighted implicit loss after the iteration; present when `computeLoss` is on. */
  readonly loss?: number;
}

export interface AlsOptions {
  /** Latent dimension f. Default 64. */
  readonly factors?: number;
  /** λ of λ(‖X‖² + ‖Y‖²). Default 0.01 (implicit's default) — see bench/suites/als.ts for the tuned value. */
  readonly regularization?: number;
  /**
   * ν of frequency-scaled regularisation (Rendle et al. 2021, "Revisiting the performance of iALS"):
   * row u gets λ_u = λ·(Σ_{all i} c_ui / nItems)^ν, its total confidence mass relative to an
   * empty row's (every unobserved cell weighs 1), so heavy users and popular items are held back
   * more. Default 0: plain λ for every row.
   */
  readonly regularizationExponent?: number;
  /** α of the confidence. Default 40. */
  readonly alpha?: number;
  /** Confidence convention, "hkv" (1 + α·s(r), default) or "implicit" (α·s(r)). */
  readonly confidence?: AlsConfidence;
  /** "binary" (default): r = 1 per observed (user, item); "weight": r = summed interaction weights. */
  readonly values?: "binary" | "weight";
  /** s(r) = r ("linear", default) or log(1 + r/ε) ("log"). */
  readonly scaling?: "linear" | "log";
  /** ε of log scaling. Default 1. */
  readonly epsilon?: number;
  /** Alternating iterations (one user and one item half-step each). Default 15. */
  readonly iterations?: number;
  /** "cg" (default): `cgSteps` warm-started CG steps per row; "cholesky": exact solves (f³/3 per row). */
  readonly solver?: "cg" | "cholesky";
  /** CG steps per row and half-step. Default 3. */
  readonly cgSteps?: number;
  /** Factors start uniform in [0, initScale) (implicit's scheme). Default 0.01. */
  readonly initScale?: number;
  readonly seed?: number;
  /** Worker threads; 0 runs in-process. Default `defaultWorkers()` (RECALLKIT_WORKERS, else the cores). */
  readonly workers?: number;
  /**
   * CG kernel: "wasm" (default; WebAssembly SIMD f32x4, f32 accumulation like implicit's BLAS) or
   * "js" (float64 accumulation). "wasm" falls back to "js" when f % 4 ≠ 0 or WebAssembly SIMD is missing.
   */
  readonly kernel?: "wasm" | "js";
  /** Compute the training loss after every iteration (costs about one CG step). Default false. */
  readonly computeLoss?: boolean;
  /** Called after every iteration. */
  readonly onIteration?: (info: AlsIterationInfo) => void;
}

type ResolvedOptions = Required<Omit<AlsOptions, "onIteration">>;

function resolveOptions(o: AlsOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    factors: o.factors ?? 64,
    regularization: o.regularization ?? 0.01,
    regularizationExponent: o.regularizationExponent ?? 0,
    alpha: o.alpha ?? 40,
    confidence: o.confidence ?? "hkv",
    values: o.values ?? "binary",
    scaling: o.scaling ?? "linear",
    epsilon: o.epsilon ?? 1,
    iterations: o.iterations ?? 15,
    solver: o.solver ?? "cg",
    cgSteps: o.cgSteps ?? 3,
    initScale: o.initScale ?? 0.01,
    seed: o.seed ?? 42,
    workers: o.workers ?? defaultWorkers(),
    computeLoss: o.computeLoss ?? false,
    kernel: o.kernel ?? "wasm",
  };
  const int = (v: number, lo: number) => Number.isInteger(v) && v >= lo;
  assert(int(r.factors, 1), () => `ALS: factors must be an integer ≥ 1, got ${r.factors}`);
  assert(r.regularization >= 0, () => `ALS: regularization must be ≥ 0, got ${r.regularization}`);
  assert(
    r.regularizationExponent >= 0,
    () => `ALS: regularizationExponent must be ≥ 0, got ${r.regularizationExponent}`,
  );
  assert(r.alpha >= 0, () => `ALS: alpha must be ≥ 0, got ${r.alpha}`);
  assert(
    r.confidence === "hkv" || r.confidence === "implicit",
    () => `ALS: confidence must be "hkv" or "implicit", got "${r.confidence}"`,
  );
  assert(
    r.confidence === "hkv" || r.alpha > 0,
    () => `ALS: confidence "implicit" (c = α·r) needs alpha > 0, got ${r.alpha}`,
  );
  assert(
    r.values === "binary" || r.values === "weight",
    () => `ALS: values must be "binary" or "weight", got "${r.values}"`,
  );
  assert(
    r.scaling === "linear" || r.scaling === "log",
    () => `ALS: scaling must be "linear" or "log", got "${r.scaling}"`,
  );
  assert(r.epsilon > 0, () => `ALS: epsilon must be > 0, got ${r.epsilon}`);
  assert(int(r.iterations, 0), () => `ALS: iterations must be an integer ≥ 0, got ${r.iterations}`);
  assert(
    r.solver === "cg" || r.solver === "cholesky",
    () => `ALS: solver must be "cg" or "cholesky", got "${r.solver}"`,
  );
  assert(int(r.cgSteps, 1), () => `ALS: cgSteps must be an integer ≥ 1, got ${r.cgSteps}`);
  assert(r.initScale >= 0, () => `ALS: initScale must be ≥ 0, got ${r.initScale}`);
  assert(
    r.kernel === "wasm" || r.kernel === "js",
    () => `ALS: kernel must be "wasm" or "js", got "${r.kernel}"`,
  );
  assert(int(r.workers, 0), () => `ALS: workers must be an integer ≥ 0, got ${r.workers}`);
  return r;
}

/**
 * Confidence of each stored entry: c = base + α·s(r), base = 1 ("hkv") or 0 ("implicit"),
 * s(r) = r or log(1 + r/ε). `values` null means r = 1 everywhere. Writes into `out`.
 */
export function confidenceInto(
  values: Float32Array | null,
  nnz: number,
  o: Pick<ResolvedOptions, "alpha" | "confidence" | "scaling" | "epsilon">,
  out: Float32Array,
): void {
  const base = o.confidence === "hkv" ? 1 : 0;
  const log = o.scaling === "log";
  for (let e = 0; e < nnz; e++) {
    const r = values === null ? 1 : values[e];
    out[e] = base + o.alpha * (log ? Math.log1p(r / o.epsilon) : r);
  }
}

/** Checks interaction values: finite and > 0 (a zero cell is an unobserved one; drop it upstream). */
function checkValues(values: Float32Array | null, m: Csr): void {
  if (values === null) return;
  for (let r = 0; r < m.nRows; r++) {
    for (let e = m.offsets[r]; e < m.offsets[r + 1]; e++) {
      const v = values[e];
      if (!(v > 0 && Number.isFinite(v))) {
        throw new RecallkitError(
          "RK_ERR_INVALID_ARGUMENT",
          `ALS: interaction (row ${r}, column ${m.indices[e]}) has value ${v}; implicit ALS needs r > 0 ` +
            `(drop zero or negative rows, or fit with values: "binary")`,
        );
      }
    }
  }
}

/** The worker pool of one fit: tasks are broadcast and the promise settles when all workers answered. */
class AlsPool {
  private constructor(private readonly workers: Worker[]) {}

  static async start(n: number, b: AlsBuffers): Promise<AlsPool> {
    const url = workerUrl("./als.worker", import.meta.url);
    const workers = Array.from({ length: n }, (_, slot) => startWorker(url, { buffers: b, slot }));
    const pool = new AlsPool(workers);
    try {
      await pool.broadcast(null);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Posts `task` (null: just wait for the ready message) to every worker and waits for all answers. */
  broadcast(task: AlsTask | null): Promise<void> {
    return Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const onError = (err: Error) => {
              w.off("message", onMessage);
              reject(err);
            };
            const onMessage = () => {
              w.off("error", onError);
              resolve();
            };
            w.once("message", onMessage);
            w.once("error", onError);
            if (task !== null) w.postMessage(task);
          }),
      ),
    ).then(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export class ALS implements Recommender {
  readonly kind = "als";
  private readonly given: AlsOptions;
  private readonly o: ResolvedOptions;
  private nUsers = 0;
  private nItems = 0;
  private X: Float32Array | null = null;
  private Y: Float32Array | null = null;
  /** Training matrix (user → items), masked by `recommend` unless told otherwise. */
  private seen: Csr | null = null;
  /** Losses of the last fit, one per iteration, when `computeLoss` was on. */
  losses: number[] = [];
  /** Seconds per iteration of the last fit. */
  iterationSeconds: number[] = [];
  // Lazily computed from the factors; reset whenever they change.
  private gramY: Float64Array | null = null;
  private gramX: Float64Array | null = null;
  private itemsUnit: Float32Array | null = null;
  private panels: WasmGemm | null | undefined = undefined;

  constructor(options: AlsOptions = {}) {
    this.given = options;
    this.o = resolveOptions(options);
  }

  params(): Record<string, unknown> {
    const { onIteration: _, ...rest } = this.given;
    return { ...this.o, ...rest };
  }

  /** Fits on `data.train` (values per `options.values`). */
  async fit(data: Dataset): Promise<this> {
    const ui = userItemCsr(data.train, data.users.size, data.items.size, { values: this.o.values });
    return this.fitMatrix(ui);
  }

  /**
   * Fits on a user → item matrix (rows sorted and unique, as `buildCsr` makes them). Values are
   * the interaction strengths r (null: all 1); with `values: "binary"` they are ignored.
   */
  async fitMatrix(ui: Csr): Promise<this> {
    const o = this.o;
    const f = o.factors;
    const values = o.values === "binary" ? null : ui.values;
    checkValues(values, ui);
    const nnz = ui.offsets[ui.nRows];
    const kernel = o.kernel === "wasm" && f % 4 === 0 && alsWasmSupported() ? "wasm" : "js";
    const b = allocAlsBuffers(
      f,
      o.cgSteps,
      o.solver === "cholesky",
      kernel,
      ui.nRows,
      ui.nCols,
      nnz,
      Math.max(1, o.workers),
    );
    const engine = new AlsEngine(b, 0);
    const iu = transposeCsr(values === null ? { ...ui, values: null } : ui);
    const [um, im] = engine.matrices();
    um.offsets.set(ui.offsets);
    um.indices.set(ui.indices.subarray(0, nnz));
    confidenceInto(values, nnz, o, um.conf);
    im.offsets.set(iu.offsets);
    im.indices.set(iu.indices);
    confidenceInto(iu.values, nnz, o, im.conf);
    for (const m of [um, im]) {
      const nFixed = m === um ? ui.nCols : ui.nRows;
      for (let r = 0; r + 1 < m.offsets.length; r++) {
        let mass = 0;
        for (let e = m.offsets[r]; e < m.offsets[r + 1]; e++) mass += m.conf[e] - 1;
        m.reg[r] = this.extraRegularization(mass, nFixed);
      }
    }
    // Init as implicit does: uniform [0, initScale), users then items, from one seeded stream.
    const rng = new Rng(o.seed);
    for (let t = 0; t < engine.X.length; t++) engine.X[t] = rng.next() * o.initScale;
    for (let t = 0; t < engine.Y.length; t++) engine.Y[t] = rng.next() * o.initScale;

    const pool = o.workers > 0 ? await AlsPool.start(o.workers, b) : null;
    const run = async (task: AlsTask) => {
      Atomics.store(engine.counter, 0, 0);
      if (pool === null) engine.run(task);
      else await pool.broadcast(task);
    };
    const ff = f * f;
    /** G = FᵀF + λI of the fixed side of `side`, partials summed in chunk order. */
    const gram = async (side: AlsSide) => {
      await run({ op: "gram", side });
      const G = engine.G;
      G.fill(0);
      const n = gramChunks(side === 0 ? ui.nCols : ui.nRows);
      for (let c = 0; c < n; c++) for (let t = 0; t < ff; t++) G[t] += engine.gramPartials[c * ff + t];
      symmetrizeInto(G, f, o.regularization);
      engine.G32.set(G);
    };
    this.losses = [];
    this.iterationSeconds = [];
    try {
      for (let it = 0; it < o.iterations; it++) {
        const t0 = performance.now();
        await gram(0);
        await run({ op: "solve", side: 0 });
        await gram(1);
        await run({ op: "solve", side: 1 });
        const seconds = (performance.now() - t0) / 1000;
        this.iterationSeconds.push(seconds);
        let loss: number | undefined;
        if (o.computeLoss) {
          // Σ over users of x_uᵀ(YᵀY + λ_u I)x_u + Σ_obs(...), plus Σ_i λ_i‖y_i‖².
          await gram(0);
          await run({ op: "loss", side: 0 });
          loss = 0;
          for (let c = 0; c < rowChunks(ui.nRows); c++) loss += engine.lossPartials[c];
          for (let i = 0; i < ui.nCols; i++) {
            let yy = 0;
            for (let j = 0; j < f; j++) yy += engine.Y[i * f + j] * engine.Y[i * f + j];
            loss += (o.regularization + im.reg[i]) * yy;
          }
          this.losses.push(loss);
        }
        this.given.onIteration?.(
          loss === undefined
            ? { iteration: it + 1, iterations: o.iterations, seconds }
            : { iteration: it + 1, iterations: o.iterations, seconds, loss },
        );
      }
    } finally {
      await pool?.close();
    }
    // Copy out of the shared buffers so the model owns ordinary (transferable) memory.
    this.setFactors(ui.nRows, ui.nCols, engine.X.slice(), engine.Y.slice());
    this.seen = {
      nRows: ui.nRows,
      nCols: ui.nCols,
      offsets: ui.offsets,
      indices: ui.indices.subarray(0, nnz),
      values: null,
    };
    return this;
  }

  /** λ_u − λ for a row whose observed cells carry Σ(c − 1) = `mass` against `nFixed` columns. */
  private extraRegularization(mass: number, nFixed: number): number {
    const nu = this.o.regularizationExponent;
    return nu === 0 ? 0 : this.o.regularization * (((nFixed + mass) / nFixed) ** nu - 1);
  }

  private setFactors(nUsers: number, nItems: number, X: Float32Array, Y: Float32Array): void {
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.X = X;
    this.Y = Y;
    this.gramX = null;
    this.gramY = null;
    this.itemsUnit = null;
    this.panels = undefined;
  }

  private fitted(): { X: Float32Array; Y: Float32Array } {
    if (this.X === null || this.Y === null) {
      throw new RecallkitError("RK_ERR_NOT_FITTED", "ALS: call fit() or ALS.load() before using the model");
    }
    return { X: this.X, Y: this.Y };
  }

  /** User and item factors (nUsers×f, nItems×f): score = x_u·y_i. */
  embeddings(): Embeddings {
    const { X, Y } = this.fitted();
    return { dim: this.o.factors, users: X, items: Y };
  }

  /** Top-k items by x_u·y_i for each user; training items are masked unless `exclude` says otherwise. */
  recommend(users: Int32Array, k: number, opts: RecommendOptions = {}): TopK {
    const { X, Y } = this.fitted();
    const f = this.o.factors;
    const exclude = opts.exclude === undefined ? this.seen : opts.exclude;
    assert(Number.isInteger(k) && k >= 0, () => `ALS.recommend: k must be an integer ≥ 0, got ${k}`);
    for (let q = 0; q < users.length; q++) {
      const u = users[q];
      assert(
        u >= 0 && u < this.nUsers,
        () =>
          `ALS.recommend: user ${u} (position ${q}) is outside [0, ${this.nUsers}); use foldInUser for new users`,
      );
    }
    assert(
      exclude === null || exclude.nRows >= this.nUsers,
      () => `ALS.recommend: exclude has ${exclude?.nRows} rows, need ${this.nUsers}`,
    );
    const kk = Math.min(k, this.nItems);
    const out = new TopK(users.length, kk);
    const heap = new TopKHeap(kk);
    const nI = this.nItems;
    const g = this.itemPanels();
    if (g !== null) {
      // WebAssembly SIMD scores: item panels packed once per model, users packed per block of B.
      const B = 64;
      const ldw = Math.ceil(nI / GEMM_NR) * GEMM_NR;
      const aAt = ldw * f * 4;
      const cAt = aAt + B * f * 4;
      g.reserve(cAt + B * ldw * 4);
      for (let s = 0; s < users.length; s += B) {
        const m = Math.min(B, users.length - s);
        packPanelsInto(X, users, s, m, f, GEMM_MR, g.f32, aAt / 4);
        g.gemm4x8(aAt, Math.ceil(m / GEMM_MR), 0, ldw / GEMM_NR, f, cAt, ldw);
        for (let t = 0; t < m; t++)
          this.topKInto(g.f32, cAt / 4 + t * ldw, users[s + t], exclude, heap, out, s + t);
      }
      return out;
    }
    const B = 16;
    const q = new Float32Array(B * f);
    const scores = new Float32Array(B * nI);
    for (let s = 0; s < users.length; s += B) {
      const m = Math.min(B, users.length - s);
      for (let t = 0; t < m; t++) q.set(X.subarray(users[s + t] * f, users[s + t] * f + f), t * f);
      gemmNT(q, 0, m, Y, 0, nI, f, scores, 0, nI);
      for (let t = 0; t < m; t++) this.topKInto(scores, t * nI, users[s + t], exclude, heap, out, s + t);
    }
    return out;
  }

  private topKInto(
    scores: Float32Array,
    from: number,
    u: number,
    exclude: Csr | null,
    heap: TopKHeap,
    out: TopK,
    row: number,
  ): void {
    if (exclude === null) topKRowInto(scores, from, this.nItems, null, 0, 0, heap, out, row);
    else
      topKRowInto(
        scores,
        from,
        this.nItems,
        exclude.indices,
        exclude.offsets[u],
        exclude.offsets[u + 1],
        heap,
        out,
        row,
      );
  }

  /** A wasm GEMM instance holding the item factors packed in panels at address 0 (null without SIMD). */
  private itemPanels(): WasmGemm | null {
    if (this.panels === undefined) {
      const { Y } = this.fitted();
      const g = createWasmGemm();
      if (g !== null) {
        g.reserve(Math.ceil(this.nItems / GEMM_NR) * GEMM_NR * this.o.factors * 4);
        packPanelsInto(Y, null, 0, this.nItems, this.o.factors, GEMM_NR, g.f32, 0);
      }
      this.panels = g;
    }
    return this.panels;
  }

  /** Top-k items by cosine of item factors (the item itself excluded). */
  similarItems(items: Int32Array, k: number): TopK {
    const { Y } = this.fitted();
    const f = this.o.factors;
    if (this.itemsUnit === null) {
      this.itemsUnit = Y.slice();
      normalizeRows(this.itemsUnit, this.nItems, f);
    }
    const Yn = this.itemsUnit;
    const kk = Math.min(k, Math.max(0, this.nItems - 1));
    const out = new TopK(items.length, kk);
    const heap = new TopKHeap(kk);
    const scores = new Float32Array(this.nItems);
    const self = new Int32Array(1);
    for (let t = 0; t < items.length; t++) {
      const i = items[t];
      assert(
        i >= 0 && i < this.nItems,
        () =>
          `ALS.similarItems: item ${i} (position ${t}) is outside [0, ${this.nItems}); use foldInItem for new items`,
      );
      gemmNT(Yn, i, 1, Yn, 0, this.nItems, f, scores, 0, this.nItems);
      self[0] = i;
      topKRowInto(scores, 0, this.nItems, self, 0, 1, heap, out, t);
    }
    return out;
  }

  /**
   * Top-k for a user known only by `recent` items (e.g. a new user): fold-in, then score.
   * `exclude` (default: `recent`) is left out of the results.
   */
  recommendFromItems(recent: Int32Array, k: number, exclude?: Int32Array): TopK {
    const { Y } = this.fitted();
    const x = this.foldInUser(recent);
    const kk = Math.min(k, this.nItems);
    const out = new TopK(1, kk);
    const scores = new Float32Array(this.nItems);
    gemmNT(x, 0, 1, Y, 0, this.nItems, this.o.factors, scores, 0, this.nItems);
    // Sorted and unique, as topKRowInto's merge-skip expects.
    const ex = Int32Array.from(new Set(exclude ?? recent)).sort();
    topKRowInto(scores, 0, this.nItems, ex, 0, ex.length, new TopKHeap(kk), out, 0);
    return out;
  }

  /**
   * Fold-in (allocates): the factor vector of a user not seen in training, from the items it
   * interacted with (optional weights = r, used when `values: "weight"`; duplicates add up), by the
   * exact solve of a training half-step against the fixed item factors:
   *   x = (YᵀY + λI + Σ_i (c_i − 1) y_i y_iᵀ)⁻¹ Σ_i c_i y_i.
   * For a training user this reproduces its trained row once ALS has converged.
   */
  foldInUser(items: Int32Array, weights?: Float32Array): Float32Array {
    const { Y } = this.fitted();
    this.gramY ??= this.gramOf(Y, this.nItems);
    return this.foldIn(Y, this.nItems, this.gramY, items, weights, "foldInUser", "item");
  }

  /** Fold-in of a new item from the users who interacted with it (the transpose of `foldInUser`). */
  foldInItem(users: Int32Array, weights?: Float32Array): Float32Array {
    const { X } = this.fitted();
    this.gramX ??= this.gramOf(X, this.nUsers);
    return this.foldIn(X, this.nUsers, this.gramX, users, weights, "foldInItem", "user");
  }

  private gramOf(F: Float32Array, n: number): Float64Array {
    const f = this.o.factors;
    const G = new Float64Array(f * f);
    gramAddInto(F, f, 0, n, G, 0);
    symmetrizeInto(G, f, this.o.regularization);
    return G;
  }

  private foldIn(
    F: Float32Array,
    n: number,
    G: Float64Array,
    ids: Int32Array,
    weights: Float32Array | undefined,
    who: string,
    what: string,
  ): Float32Array {
    const f = this.o.factors;
    assert(
      weights === undefined || weights.length === ids.length,
      () => `ALS.${who}: ${weights?.length} weights for ${ids.length} ${what}s`,
    );
    // Sort and merge duplicates (r adds up, as buildCsr's "sum"; binary keeps 1).
    const order = Array.from(ids.keys()).sort((a, b) => ids[a] - ids[b]);
    const uniq = new Int32Array(ids.length);
    const r = new Float32Array(ids.length);
    let m = 0;
    for (const t of order) {
      const id = ids[t];
      assert(
        Number.isInteger(id) && id >= 0 && id < n,
        () => `ALS.${who}: ${what} ${id} (position ${t}) is outside [0, ${n})`,
      );
      const w = this.o.values === "binary" || weights === undefined ? 1 : weights[t];
      assert(
        w > 0 && Number.isFinite(w),
        () => `ALS.${who}: weight ${w} at position ${t} must be finite and > 0`,
      );
      if (m > 0 && uniq[m - 1] === id) {
        if (this.o.values === "weight") r[m - 1] += w;
      } else {
        uniq[m] = id;
        r[m++] = w;
      }
    }
    const conf = new Float32Array(m);
    confidenceInto(r, m, this.o, conf);
    const x = new Float32Array(f);
    if (m === 0) return x;
    let mass = 0;
    for (let t = 0; t < m; t++) mass += conf[t] - 1;
    const d = this.extraRegularization(mass, n);
    const A = new Float64Array(f * f);
    const ok = choleskySolveRowInto(F, f, uniq, conf, 0, m, G, d, A, new Float64Array(f), x, 0);
    assert(ok, () => `ALS.${who}: the normal equations are singular; fit with regularization > 0`);
    return x;
  }

  async save(dir: string): Promise<void> {
    const { X, Y } = this.fitted();
    const f = this.o.factors;
    const seen = this.seen;
    await writeArtifact(
      dir,
      { type: "als", params: this.params(), meta: { nUsers: this.nUsers, nItems: this.nItems, factors: f } },
      {
        "user_factors.npy": { npy: X, shape: [this.nUsers, f] },
        "item_factors.npy": { npy: Y, shape: [this.nItems, f] },
        ...(seen === null
          ? {}
          : {
              "seen_offsets.npy": { npy: seen.offsets, shape: [seen.offsets.length] },
              "seen_indices.npy": { npy: seen.indices, shape: [seen.indices.length] },
            }),
      },
    );
  }

  static async load(dir: string): Promise<ALS> {
    const a = await readArtifact(dir, "als");
    const { onIteration: _, ...params } = a.manifest.params as AlsOptions;
    const model = new ALS(params);
    const xu = await a.npy("user_factors.npy");
    const yi = await a.npy("item_factors.npy");
    const f = model.o.factors;
    const ok =
      xu.data instanceof Float32Array &&
      yi.data instanceof Float32Array &&
      xu.shape[1] === f &&
      yi.shape[1] === f;
    if (!ok) {
      throw new RecallkitError(
        "RK_ERR_ARTIFACT",
        `${dir}: factor files must be float32 [n, ${f}] (got [${xu.shape}], [${yi.shape}])`,
      );
    }
    model.setFactors(xu.shape[0], yi.shape[0], xu.data as Float32Array, yi.data as Float32Array);
    if ("seen_offsets.npy" in a.manifest.files) {
      const off = (await a.npy("seen_offsets.npy")).data as Int32Array;
      const idx = (await a.npy("seen_indices.npy")).data as Int32Array;
      model.seen = { nRows: off.length - 1, nCols: yi.shape[0], offsets: off, indices: idx, values: null };
    }
    return model;
  }
}
