/**
 * Loss kernels over a plain nQ × nC score matrix (row-major) with one positive column per row.
 * Each returns the SUM of the per-row losses and writes d(sum)/dscores; the caller scales for a
 * mean. A score of −∞ (a masked cell, see transforms/accidental-hits) contributes 0 loss and 0
 * gradient in every kernel. The hand derivations sit above each loop; tests check them against
 * finite differences in float64.
 */
import type { LossKernel } from "./types.ts";

/** log(1 + eˣ) without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** σ(x) = 1 / (1 + e⁻ˣ). */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Softmax cross-entropy (spec 5-1/5-12/5-30): ℓ_i = −s_{i,y} + log Σ_c exp(s_{i,c}).
 * ∂ℓ_i/∂s_{i,c} = p_{i,c} − [c = y],  p = softmax(s_i).
 */
export const softmaxKernel: LossKernel = (s, nQ, nC, labels, ds) => {
  let total = 0;
  for (let i = 0; i < nQ; i++) {
    const o = i * nC;
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < nC; c++) if (s[o + c] > m) m = s[o + c];
    // one exp per cell: ds holds e^(s − m) until it is scaled by 1/z
    let z = 0;
    for (let c = 0; c < nC; c++) {
      const e = Math.exp(s[o + c] - m);
      ds[o + c] = e;
      z += e;
    }
    const y = o + labels[i];
    total += m + Math.log(z) - s[y];
    const inv = 1 / z;
    for (let c = 0; c < nC; c++) ds[o + c] *= inv;
    ds[y] -= 1;
  }
  return total;
};

/**
 * Binary cross-entropy per cell (NEG 5-5; NCE 5-4 once −log Q is subtracted):
 * ℓ_i = softplus(−s_{i,y}) + Σ_{c≠y} softplus(s_{i,c}).
 * ∂/∂s_{i,y} = σ(s_{i,y}) − 1,  ∂/∂s_{i,c} = σ(s_{i,c}).
 */
export const binaryKernel: LossKernel = (s, nQ, nC, labels, ds) => {
  let total = 0;
  for (let i = 0; i < nQ; i++) {
    const o = i * nC;
    const y = labels[i];
    for (let c = 0; c < nC; c++) {
      const x = s[o + c];
      if (c === y) {
        total += softplus(-x);
        ds[o + c] = sigmoid(x) - 1;
      } else if (x === Number.NEGATIVE_INFINITY) {
        ds[o + c] = 0;
      } else {
        total += softplus(x);
        ds[o + c] = sigmoid(x);
      }
    }
  }
  return total;
};

/**
 * BPR (5-14) summed over the row's negatives: ℓ_i = Σ_{c≠y} softplus(s_{i,c} − s_{i,y}).
 * With g_c = σ(s_c − s_y): ∂/∂s_c = g_c, ∂/∂s_y = −Σ_c g_c.
 */
export const bprKernel: LossKernel = (s, nQ, nC, labels, ds) => {
  let total = 0;
  for (let i = 0; i < nQ; i++) {
    const o = i * nC;
    const y = o + labels[i];
    const sy = s[y];
    let gy = 0;
    for (let c = o; c < o + nC; c++) {
      if (c === y) continue;
      if (s[c] === Number.NEGATIVE_INFINITY) {
        ds[c] = 0;
        continue;
      }
      const x = s[c] - sy;
      total += softplus(x);
      const g = sigmoid(x);
      ds[c] = g;
      gy -= g;
    }
    ds[y] = gy;
  }
  return total;
};

/**
 * Margin hinge (5-13) summed over the row's negatives: ℓ_i = Σ_{c≠y} max(0, m − s_y + s_c).
 * Where the hinge is active: ∂/∂s_c = 1, ∂/∂s_y −= 1.
 */
export function hingeKernel(margin: number): LossKernel {
  return (s, nQ, nC, labels, ds) => {
    let total = 0;
    for (let i = 0; i < nQ; i++) {
      const o = i * nC;
      const y = o + labels[i];
      const sy = s[y];
      let gy = 0;
      for (let c = o; c < o + nC; c++) {
        if (c === y) continue;
        const h = margin - sy + s[c];
        if (h > 0) {
          total += h;
          ds[c] = 1;
          gy -= 1;
        } else ds[c] = 0;
      }
      ds[y] = gy;
    }
    return total;
  };
}

/**
 * Cosine contrastive loss (SimpleX, Mao et al. CIKM'21), on cosine scores:
 *   ℓ_i = (1 − s_{i,y}) + (w / (nC − 1)) · Σ_{c≠y} max(0, s_{i,c} − m).
 * ∂/∂s_{i,y} = −1; ∂/∂s_{i,c} = w / (nC − 1) where s_{i,c} > m, else 0. Only negatives scoring
 * above the margin get a gradient, so with m near 1 the gradient matrix is sparse (scores.ts
 * exploits that in the backward products).
 */
export function cclKernel(margin: number, negWeight: number): LossKernel {
  return (s, nQ, nC, labels, ds) => {
    const w = nC > 1 ? negWeight / (nC - 1) : 0;
    let total = 0;
    for (let i = 0; i < nQ; i++) {
      const o = i * nC;
      const y = o + labels[i];
      for (let c = o; c < o + nC; c++) {
        const x = s[c];
        if (c === y) {
          total += 1 - x;
          ds[c] = -1;
        } else if (x > margin) {
          total += w * (x - margin);
          ds[c] = w;
        } else ds[c] = 0;
      }
    }
    return total;
  };
}
