/**
 * Blocked exact top-K scoring for the embedding fast path of evaluation: for a block of users,
 * C = U_block · Vᵀ one item chunk at a time (wasm SIMD kernel, or the JS gemmNT fallback), then
 * each score row goes through a threshold check into that user's bounded top-k buffer. Runs in-process
 * (workers: 0) or inside score.worker.ts; the work is the same function either way, so results do
 * not depend on the worker count.
 *
 * Work sharing: blocks of `blockUsers` users are claimed with Atomics.add on ctl[CTL_NEXT], so a
 * worker slowed by a busy core simply claims fewer blocks. Results are written straight into the
 * block's rows of shared output buffers rather than transferred back per worker: with dynamic
 * claiming a worker does not know its rows in advance, and each row has exactly one writer (the
 * claimer), so there are no races. ctl[CTL_DONE] counts finished users for progress reports.
 *
 * Per chunk of ITEM_CHUNK items (wasm path):
 *   1. gemm4x8: C[block × chunk] = U_block · V_chunkᵀ (packed operands, SIMD, ~40 GFLOP/s/core);
 *   2. above8: SIMD compares of 8 scores at a time against each row's current threshold, listing
 *      each group of 8 that holds a candidate with the mask of its passing lanes;
 *   3. scanCandidatesInto: only those scores reach JS, where each one above the live threshold
 *      goes to the user's TopKBuffer (append; quickselect when full).
 */
import { gemmNT } from "../math/blas.ts";
import { createWasmGemm, GEMM_MR, GEMM_NR, packPanelsInto, type WasmGemm } from "../math/gemm-wasm.ts";
import { TopK, TopKHeap } from "../math/topk.ts";
import { TopKBuffer } from "../math/topk-buffer.ts";

export const CTL_NEXT = 0;
export const CTL_DONE = 1;
/** Items per chunk (≤ 2048: the wasm filter keeps the group index in 8 bits): 2048 × dim 64 × 4 B = 512 KiB of packed items and 64 × 2048 × 4 B of scores, both L2-resident (2 MiB here). */
export const ITEM_CHUNK = 2048;

export type ScoreKernel = "wasm" | "js";

export interface ScoreJob {
  readonly dim: number;
  readonly nItems: number;
  /** Heap size (the largest cut-off). */
  readonly k: number;
  /** Users per block; a multiple of GEMM_MR, < 65536 (candidate entries keep the row in 16 bits). */
  readonly blockUsers: number;
  readonly kernel: ScoreKernel;
  /** nUsers × dim and nItems × dim, row-major (shared between workers). */
  readonly userFactors: Float32Array;
  readonly itemFactors: Float32Array;
  /** The users to score; output row i belongs to users[i]. */
  readonly users: Int32Array;
  /** Training CSR (user → sorted items): masked from every list. */
  readonly trainOffsets: Int32Array;
  readonly trainIndices: Int32Array;
  /** users.length × k ids/scores and per-row counts, best first. */
  readonly outIds: Int32Array;
  readonly outScores: Float32Array;
  readonly outCounts: Int32Array;
  /** [CTL_NEXT, CTL_DONE]. */
  readonly ctl: Int32Array;
}

/**
 * Claims and scores blocks until none are left. `onBlock(doneUsers)` (in-process runs only) is
 * called after each block. Allocates its per-thread buffers once, up front.
 */
export function scoreBlocks(job: ScoreJob, onBlock: ((done: number) => void) | null): void {
  const { dim, nItems, k, blockUsers: mb, users, ctl } = job;
  const nEval = users.length;
  const nBlocks = Math.ceil(nEval / mb);
  const bufs: TopKBuffer[] = [];
  for (let r = 0; r < mb; r++) bufs.push(new TopKBuffer(k));
  const sorter = new TopKHeap(k);
  const exPos = new Int32Array(mb);
  const exEnd = new Int32Array(mb);
  const block = new TopK(mb, k);
  const nc = ITEM_CHUNK;

  // Kernel state. wasm: one memory holding [packed items | packed A block | C block | row
  // thresholds (f32) | candidate list (i32)]; js: a gathered A block and a C block.
  // The wasm memory must stay under 2 GiB (i32 addresses), ~8M items at dim 64; past that, or
  // when the memory cannot grow, the JS kernel takes over.
  const bFloats = Math.ceil(nItems / GEMM_NR) * GEMM_NR * dim;
  const aOff = bFloats;
  const cOff = aOff + mb * dim;
  const thrOff = cOff + mb * nc;
  const candOff = thrOff + mb;
  const wasmBytes = (candOff + mb * (nc / GEMM_NR)) * 4;
  let g: WasmGemm | null = job.kernel === "wasm" && dim > 0 && wasmBytes < 2 ** 31 ? createWasmGemm() : null;
  try {
    g?.reserve(wasmBytes);
  } catch {
    g = null;
  }
  let C: Float32Array;
  let aJs: Float32Array | null = null;
  if (g !== null) {
    packPanelsInto(job.itemFactors, null, 0, nItems, dim, GEMM_NR, g.f32, 0);
    C = g.f32;
  } else {
    aJs = new Float32Array(mb * dim);
    C = new Float32Array(mb * nc);
  }

  for (;;) {
    const b = Atomics.add(ctl, CTL_NEXT, 1);
    if (b >= nBlocks) break;
    const row0 = b * mb;
    const m = Math.min(mb, nEval - row0);
    for (let r = 0; r < m; r++) {
      const u = users[row0 + r];
      bufs[r].reset();
      exPos[r] = job.trainOffsets[u];
      exEnd[r] = job.trainOffsets[u + 1];
    }
    if (g !== null) packPanelsInto(job.userFactors, users, row0, m, dim, GEMM_MR, g.f32, aOff);
    else {
      const A = aJs as Float32Array;
      for (let r = 0; r < m; r++)
        A.set(job.userFactors.subarray(users[row0 + r] * dim, (users[row0 + r] + 1) * dim), r * dim);
    }

    for (let j0 = 0; j0 < nItems; j0 += nc) {
      const n = Math.min(nc, nItems - j0);
      if (g !== null) {
        // Packed items of chunk j0 start at panel j0/8, i.e. float j0·dim (nc is a multiple of 8).
        const ng = Math.ceil(n / GEMM_NR);
        g.gemm4x8(aOff * 4, Math.ceil(m / GEMM_MR), j0 * dim * 4, ng, dim, cOff * 4, nc);
        const f = g.f32;
        for (let r = 0; r < m; r++) f[thrOff + r] = bufs[r].thr; // f32 scores or ±∞: exact in f32
        const nCand = g.above8(cOff * 4, nc, m, ng, thrOff * 4, candOff * 4);
        scanCandidatesInto(f, cOff, nc, n, j0, g.i32, candOff, nCand, bufs, exPos, exEnd, job.trainIndices);
      } else {
        if (dim > 0) gemmNT(aJs as Float32Array, 0, m, job.itemFactors, j0, n, dim, C, 0, nc);
        else C.fill(0);
        scanChunkInto(C, 0, nc, m, n, j0, bufs, exPos, exEnd, job.trainIndices);
      }
    }

    for (let r = 0; r < m; r++) bufs[r].drainInto(sorter, block, r);
    job.outIds.set(block.ids.subarray(0, m * k), row0 * k);
    job.outScores.set(block.scores.subarray(0, m * k), row0 * k);
    job.outCounts.set(block.counts.subarray(0, m), row0);
    const done = Atomics.add(ctl, CTL_DONE, m) + m;
    if (onBlock !== null) onBlock(done);
  }
}

/**
 * Offers row r's scores C[cOff + r·ldc + j] (item j0 + j, j < n) to bufs[r], for r < m, skipping
 * the row's training items trainIndices[exPos[r] .. exEnd[r]) (sorted; the cursor only moves
 * forward because chunks arrive in item order).
 *
 * Cost: ~1.2e9 scores on Gowalla, so the common case is one compare against a threshold held in
 * a local; only a score above the row's threshold pays for the training-item check and the
 * buffer. Items arrive in ascending id order, so a tie with the threshold never wins (ties go to
 * the smaller id) and `>` is exact (TopKBuffer's contract). The threshold starts at −∞, so items
 * scoring −∞ or NaN are never listed.
 */
export function scanChunkInto(
  C: Float32Array,
  cOff: number,
  ldc: number,
  m: number,
  n: number,
  j0: number,
  bufs: TopKBuffer[],
  exPos: Int32Array,
  exEnd: Int32Array,
  trainIndices: Int32Array,
): void {
  for (let r = 0; r < m; r++) {
    const buf = bufs[r];
    let thr = buf.thr;
    let e = exPos[r];
    const eEnd = exEnd[r];
    const base = cOff + r * ldc;
    for (let j = 0; j < n; j++) {
      const s = C[base + j];
      if (s > thr) {
        const item = j0 + j;
        while (e < eEnd && trainIndices[e] < item) e++;
        if (e < eEnd && trainIndices[e] === item) continue;
        buf.push(s, item);
        thr = buf.thr;
      }
    }
    exPos[r] = e;
  }
}

/**
 * Like scanChunkInto, but visits only the scores listed by the wasm `above8` filter:
 * cand[candOff + q] = (r << 16) | (g << 8) | mask, rows ascending, groups ascending within a row,
 * bit b of mask set when column 8g + b beat the row's threshold from before the chunk.
 * Thresholds only rise, so every score that scanChunkInto would accept is listed, and the live
 * re-check below makes the two produce identical buffers. Columns ≥ n (padding of the last
 * chunk) are ignored.
 */
export function scanCandidatesInto(
  C: Float32Array,
  cOff: number,
  ldc: number,
  n: number,
  j0: number,
  cand: Int32Array,
  candOff: number,
  nCand: number,
  bufs: TopKBuffer[],
  exPos: Int32Array,
  exEnd: Int32Array,
  trainIndices: Int32Array,
): void {
  let q = 0;
  while (q < nCand) {
    const r = cand[candOff + q] >>> 16;
    const buf = bufs[r];
    let thr = buf.thr;
    let e = exPos[r];
    const eEnd = exEnd[r];
    const base = cOff + r * ldc;
    for (; q < nCand; q++) {
      const c = cand[candOff + q];
      if (c >>> 16 !== r) break;
      const jBase = ((c >>> 8) & 0xff) * 8;
      let mask = c & 0xff;
      while (mask !== 0) {
        const j = jBase + 31 - Math.clz32(mask & -mask); // lowest set bit: columns ascend
        mask &= mask - 1;
        if (j >= n) break;
        const s = C[base + j];
        if (s > thr) {
          const item = j0 + j;
          while (e < eEnd && trainIndices[e] < item) e++;
          if (e < eEnd && trainIndices[e] === item) continue;
          buf.push(s, item);
          thr = buf.thr;
        }
      }
    }
    exPos[r] = e;
  }
}
