import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildCsr, type Csr } from "../math/csr.ts";
import { Rng } from "../math/rng.ts";
import { type DenseInput, denseSimilarity } from "./similarity.reference.ts";
import {
  buildSimilarity,
  type NeighborRows,
  prepareSimilarity,
  relativeTimes,
  type SimilarityMeasure,
  type SimilaritySpec,
  selectKthLargest,
} from "./similarity.ts";

/** Random contexts × entities matrix (density p) with integer ratings 1..5 and times 0..999. */
export function randomMatrix(
  seed: number,
  nCtx: number,
  nEnt: number,
  p: number,
): { a: Csr; ts: Float64Array; dense: DenseInput } {
  const rng = new Rng(seed);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let c = 0; c < nCtx; c++) {
    for (let x = 0; x < nEnt; x++) {
      if (rng.next() < p) {
        rows.push(c);
        cols.push(x);
        vals.push(1 + rng.int(5));
      }
    }
  }
  const a = buildCsr(
    nCtx,
    nEnt,
    Int32Array.from(rows),
    Int32Array.from(cols),
    Float32Array.from(vals),
    "sum",
  );
  const ts = new Float64Array(a.indices.length);
  const present = new Uint8Array(nCtx * nEnt);
  const dv = new Float64Array(nCtx * nEnt);
  const dt = new Float64Array(nCtx * nEnt);
  for (let c = 0; c < nCtx; c++) {
    for (let e = a.offsets[c]; e < a.offsets[c + 1]; e++) {
      ts[e] = rng.int(1000);
      const i = c * nEnt + a.indices[e];
      present[i] = 1;
      dv[i] = (a.values as Float32Array)[e];
      dt[i] = ts[e];
    }
  }
  return { a, ts, dense: { nCtx, nEnt, present, values: dv, ts: dt } };
}

export function spec(o: Partial<SimilaritySpec> = {}): SimilaritySpec {
  const alpha = o.alpha ?? 0.5;
  return {
    measure: "cosine",
    contextWeight: "none",
    contextWeightPower: 1,
    weightNorms: false,
    alpha,
    beta: 1 - alpha,
    shrink: 0,
    neighbors: 0,
    pairHalfLifeSec: 0,
    rowNormalize: "none",
    ...o,
  };
}

function toDense(s: NeighborRows): Float64Array {
  const out = new Float64Array(s.nRows * s.nCols);
  for (let x = 0; x < s.nRows; x++) {
    for (let e = s.offsets[x]; e < s.offsets[x + 1]; e++) {
      assert.equal(out[x * s.nCols + s.indices[e]], 0, `row ${x}: column ${s.indices[e]} stored twice`);
      out[x * s.nCols + s.indices[e]] = s.scores[e];
    }
  }
  return out;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a), Math.abs(b));
}

async function fast(
  m: ReturnType<typeof randomMatrix>,
  sp: SimilaritySpec,
  explicit: boolean,
  workers = 0,
): Promise<NeighborRows> {
  const a = explicit ? m.a : { ...m.a, values: null };
  const inp = prepareSimilarity(a, relativeTimes(sp.pairHalfLifeSec > 0 ? m.ts : null), sp);
  return buildSimilarity(inp, workers);
}

function denseOf(m: ReturnType<typeof randomMatrix>, sp: SimilaritySpec, explicit: boolean): Float64Array {
  return denseSimilarity(
    { ...m.dense, values: explicit ? m.dense.values : null, ts: sp.pairHalfLifeSec > 0 ? m.dense.ts : null },
    sp,
  );
}

function assertSame(got: Float64Array, want: Float64Array, label: string): void {
  for (let i = 0; i < want.length; i++) {
    assert.ok(close(got[i], want[i]), `${label}: entry ${i} is ${got[i]}, reference ${want[i]}`);
  }
}

const MEASURES: SimilarityMeasure[] = ["cooccurrence", "cosine", "pearson", "euclidean", "jaccard"];

describe("similarity vs dense reference (unpruned)", () => {
  const m = randomMatrix(7, 40, 17, 0.25);
  for (const measure of MEASURES) {
    for (const explicit of [false, true]) {
      for (const [cw, g] of [
        ["none", 1],
        ["inverse", 0.7],
        ["log", 1],
      ] as const) {
        for (const weightNorms of [false, true]) {
          const sp = spec({ measure, contextWeight: cw, contextWeightPower: g, weightNorms });
          const label = `${measure} ${explicit ? "explicit" : "implicit"} ${cw}^${g} weightNorms=${weightNorms}`;
          test(label, async () => {
            assertSame(toDense(await fast(m, sp, explicit)), denseOf(m, sp, explicit), label);
          });
        }
      }
    }
  }
  for (const o of [
    { measure: "cosine", alpha: 0.8, beta: 0.3 },
    { measure: "cosine", alpha: 0.7, beta: 0.3, contextWeight: "inverse", shrink: 2 },
    { measure: "pearson", alpha: 0.3, beta: 0.6, shrink: 1 },
    { measure: "jaccard", shrink: 3, contextWeight: "inverse" },
    { measure: "cosine", pairHalfLifeSec: 200 },
    { measure: "jaccard", pairHalfLifeSec: 50, contextWeight: "log" },
    { measure: "pearson", pairHalfLifeSec: 100 },
    { measure: "euclidean", pairHalfLifeSec: 300 },
    { measure: "cosine", rowNormalize: "max", contextWeight: "inverse" },
    { measure: "cooccurrence", rowNormalize: "sum" },
  ] as Partial<SimilaritySpec>[]) {
    for (const explicit of [false, true]) {
      const sp = spec(o);
      const label = `${JSON.stringify(o)} ${explicit ? "explicit" : "implicit"}`;
      test(label, async () => {
        assertSame(toDense(await fast(m, sp, explicit)), denseOf(m, sp, explicit), label);
      });
    }
  }
});

describe("top-K pruning", () => {
  const m = randomMatrix(11, 60, 23, 0.3);
  for (const K of [1, 3, 5, 22, 40]) {
    for (const measure of ["cosine", "jaccard", "cooccurrence"] as const) {
      test(`K=${K} ${measure}: each row keeps the K best scores of the full row`, async () => {
        const sp = spec({ measure, neighbors: K, contextWeight: "inverse" });
        const s = await fast(m, sp, false);
        const full = denseOf(m, spec({ measure, contextWeight: "inverse" }), false);
        for (let x = 0; x < s.nRows; x++) {
          const got = Array.from(s.scores.subarray(s.offsets[x], s.offsets[x + 1])).sort((a, b) => b - a);
          const want = Array.from(full.subarray(x * s.nCols, (x + 1) * s.nCols))
            .filter((v) => v > 0)
            .sort((a, b) => b - a)
            .slice(0, K);
          assert.equal(got.length, want.length, `row ${x}: ${got.length} entries, want ${want.length}`);
          got.forEach((v, t) => {
            assert.ok(close(v, want[t]), `row ${x} rank ${t}: ${v} vs ${want[t]}`);
          });
          // Each kept id carries its own full-row score.
          for (let e = s.offsets[x]; e < s.offsets[x + 1]; e++)
            assert.ok(close(s.scores[e], full[x * s.nCols + s.indices[e]]));
        }
      });
    }
  }
  test("ties at the cut keep the smallest ids", async () => {
    // Entity 0 co-occurs once with each of 1..5 (all scores equal): K = 2 keeps 1 and 2.
    const a = buildCsr(
      5,
      6,
      Int32Array.of(0, 0, 1, 1, 2, 2, 3, 3, 4, 4),
      Int32Array.of(0, 5, 0, 4, 0, 3, 0, 2, 0, 1),
      null,
      "one",
    );
    const s = buildSimilarity(prepareSimilarity(a, null, spec({ measure: "cooccurrence", neighbors: 2 })), 0);
    const r = await s;
    assert.deepEqual(Array.from(r.indices.subarray(r.offsets[0], r.offsets[1])).sort(), [1, 2]);
  });
  test("pruned matches the reference's pruning on a tie-free explicit matrix", async () => {
    const sp = spec({ measure: "cosine", neighbors: 4 });
    const m2 = randomMatrix(5, 50, 19, 0.3);
    assertSame(toDense(await fast(m2, sp, true)), denseOf(m2, sp, true), "explicit cosine K=4");
  });
});

describe("selectKthLargest", () => {
  const rng = new Rng(3);
  for (const n of [1, 3, 15, 16, 17, 100]) {
    test(`n=${n}: every K matches a full sort`, () => {
      const base = Float64Array.from({ length: n }, () => rng.int(7));
      const sorted = Array.from(base).sort((a, b) => b - a);
      for (let K = 1; K <= n; K++) assert.equal(selectKthLargest(base.slice(), n, K), sorted[K - 1]);
    });
  }
});

test("workers 0 and 2 build byte-identical rows", async () => {
  const m = randomMatrix(13, 420, 300, 0.1);
  const sp = spec({ measure: "cosine", contextWeight: "inverse", neighbors: 20, alpha: 0.7, beta: 0.3 });
  const a = await fast(m, sp, false, 0);
  const b = await fast(m, sp, false, 2);
  assert.deepEqual(b.offsets, a.offsets);
  assert.deepEqual(b.indices, a.indices);
  assert.deepEqual(b.scores, a.scores);
});
