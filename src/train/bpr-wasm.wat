;; recallkit — WebAssembly SIMD (f32x4) kernel for MF-BPR: the arithmetic half of the fused
;; pairwise path (src/train/fused-pairwise.ts; `pairwiseSgdRange` there is the JS reference it is
;; tested against, in src/train/bpr-wasm.test.ts).
;;
;; Source of truth for src/train/bpr-wasm.bytes.ts. After editing, regenerate the embedded bytes
;; with `RECALLKIT_REGEN_WASM=1 node --import tsx --test src/train/bpr-wasm.test.ts` (needs the
;; `wabt` dev dependency); the same test fails when the two drift apart.
;;
;; The memory is imported and shared: every Hogwild worker instantiates this module over the same
;; WebAssembly.Memory, where the JS glue (bpr-wasm.ts) lays out, in bytes:
;;   U     query (user) rows, nU × dim f32, row u at U + u·dim·4
;;   V     item rows,         nV × dim f32
;;   per worker: a 64-byte scratch and the triple buffer (i32)
;; Plain loads and stores on U/V rows race between workers (Hogwild, see hogwild.ts): a lost
;; update now and then, never a torn float, since every access is 4-byte aligned.
;;
;; buf holds n triples [u, i⁺, i⁻] (row indices, drawn in JS). For each, with x = U[u]·(V[i⁺] − V[i⁻]):
;;   i⁻ = i⁺: skipped (accidental hit; no loss, no update), as the JS kernel does
;;   loss += softplus(−x);  g = −σ(−x)                       (BPR, spec 5-14)
;;   s = lr·g;  d = 1 − lr·l2
;;   U[u]  ← d·u  − s·(v⁺ − v⁻)
;;   V[i⁺] ← d·v⁺ − s·u
;;   V[i⁻] ← d·v⁻ + s·u                                     (u is the row before this step)
;; and returns Σ loss (f64). g = 0 with l2 = 0 skips the update, as in JS.
;; The dot and the updates run in f32 (the JS kernel rounds each coordinate once from float64), so
;; the two agree to a few f32 ulps per step; exp and log run in f64 (below): σ(−x) within ~1e-13
;; relative of Math.exp's, the loss's log within ~1e-9. dim must be a multiple of 4 (checked by the
;; glue).
;;
;; Rows are visited in random order and the tables (18 MB for Gowalla at dim 64) outgrow L2, so
;; the kernel is bound by cache misses unless they overlap. Every 8 triples it loads one word of
;; every 64-byte line of the next 8 triples' rows (96 lines at dim 64) in one go: those misses are
;; then in flight together, and the next 8 triples compute from the cache. (wasm has no prefetch
;; instruction; the loads feed $touch, stored to the scratch at the end, so the compiler keeps them.)
;; Touching one triple ahead instead overlaps only 12 misses at a time; measured on Gowalla-sized
;; tables, 8 at a time is ~1.5x faster per thread (4 and 16 were no better).
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func (export "bpr")
    (param $U i32) (param $V i32) (param $buf i32) (param $n i32) (param $dim i32)
    (param $lr f64) (param $l2 f64) (param $scratch i32) (result f64)
    (local $bytes i32) (local $bytes2 i32) (local $p i32) (local $end i32)
    (local $uo i32) (local $po i32) (local $no i32) (local $j i32)
    (local $x f64) (local $e f64) (local $sig f64) (local $total f64) (local $sp f64)
    (local $a f64) (local $k f64) (local $r f64) (local $r2 f64) (local $r4 f64) (local $c f64)
    (local $a0 v128) (local $a1 v128) (local $sv v128) (local $dv v128)
    (local $u v128) (local $vp v128) (local $vn v128) (local $touch v128)
    (local $gnext i32) (local $tp i32) (local $tend i32) (local $ru i32) (local $rp i32) (local $rn i32)
    (local.set $bytes (i32.shl (local.get $dim) (i32.const 2)))
    ;; the part of a row handled 32 bytes at a time; a 16-byte tail remains when dim ≡ 4 (mod 8)
    (local.set $bytes2 (i32.and (local.get $bytes) (i32.const -32)))
    (local.set $dv (f32x4.splat (f32.demote_f64
      (f64.sub (f64.const 1) (f64.mul (local.get $lr) (local.get $l2))))))
    (local.set $touch (v128.const i32x4 0 0 0 0))
    (local.set $p (local.get $buf))
    (local.set $gnext (local.get $buf))
    (local.set $tp (local.get $buf))
    (local.set $end (i32.add (local.get $buf) (i32.mul (local.get $n) (i32.const 12))))
    (block $done
      (loop $triple
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $uo (i32.add (local.get $U) (i32.mul (i32.load (local.get $p)) (local.get $bytes))))
        (local.set $po (i32.add (local.get $V) (i32.mul (i32.load offset=4 (local.get $p)) (local.get $bytes))))
        (local.set $no (i32.add (local.get $V) (i32.mul (i32.load offset=8 (local.get $p)) (local.get $bytes))))
        ;; at every 8th triple, touch the rows of triples up to 16 ahead (the first time: the
        ;; first 16), i.e. the next group of 8 (see the header)
        (if (i32.ge_u (local.get $p) (local.get $gnext))
          (then
            (local.set $gnext (i32.add (local.get $p) (i32.const 96)))
            (local.set $tend (i32.add (local.get $p) (i32.const 192)))
            (if (i32.gt_u (local.get $tend) (local.get $end)) (then (local.set $tend (local.get $end))))
            (block $gdone
              (loop $gloop
                (br_if $gdone (i32.ge_u (local.get $tp) (local.get $tend)))
                (local.set $ru (i32.add (local.get $U) (i32.mul (i32.load (local.get $tp)) (local.get $bytes))))
                (local.set $rp (i32.add (local.get $V) (i32.mul (i32.load offset=4 (local.get $tp)) (local.get $bytes))))
                (local.set $rn (i32.add (local.get $V) (i32.mul (i32.load offset=8 (local.get $tp)) (local.get $bytes))))
                (local.set $j (i32.const 0))
                (block $tdone
                  (loop $tloop
                    (br_if $tdone (i32.ge_u (local.get $j) (local.get $bytes)))
                    (local.set $touch (v128.or (local.get $touch) (v128.or
                      (v128.load32_zero (i32.add (local.get $ru) (local.get $j)))
                      (v128.or
                        (v128.load32_zero (i32.add (local.get $rp) (local.get $j)))
                        (v128.load32_zero (i32.add (local.get $rn) (local.get $j)))))))
                    (local.set $j (i32.add (local.get $j) (i32.const 64)))
                    (br $tloop)))
                (local.set $tp (i32.add (local.get $tp) (i32.const 12)))
                (br $gloop)))))
        (local.set $p (i32.add (local.get $p) (i32.const 12)))
        ;; accidental hit: i⁻ = i⁺ carries no ranking signal
        (br_if $triple (i32.eq (local.get $po) (local.get $no)))
        ;; x = u·(v⁺ − v⁻), two accumulators
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $ddone
          (loop $dloop
            (br_if $ddone (i32.ge_u (local.get $j) (local.get $bytes2)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
              (v128.load (i32.add (local.get $uo) (local.get $j)))
              (f32x4.sub
                (v128.load (i32.add (local.get $po) (local.get $j)))
                (v128.load (i32.add (local.get $no) (local.get $j)))))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul
              (v128.load offset=16 (i32.add (local.get $uo) (local.get $j)))
              (f32x4.sub
                (v128.load offset=16 (i32.add (local.get $po) (local.get $j)))
                (v128.load offset=16 (i32.add (local.get $no) (local.get $j)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 32)))
            (br $dloop)))
        (if (i32.lt_u (local.get $j) (local.get $bytes))
          (then
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
              (v128.load (i32.add (local.get $uo) (local.get $j)))
              (f32x4.sub
                (v128.load (i32.add (local.get $po) (local.get $j)))
                (v128.load (i32.add (local.get $no) (local.get $j)))))))))
        (local.set $a0 (f32x4.add (local.get $a0) (local.get $a1)))
        (local.set $x (f64.promote_f32 (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
          (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0))))))
        ;; e = e^(−|x|) ∈ (0, 1]:  x ≥ 0: σ(−x) = e/(1 + e), softplus(−x) = log1p(e)
        ;;                         x < 0: σ(−x) = 1/(1 + e), softplus(−x) = −x + log1p(e)
        ;; exp and log are written out here, not called: V8 (Node 20) does not inline wasm calls.
        ;; e^(−a), a = |x|, 0 beyond 708: a = k·ln2 − r with |r| ≤ ln2/2, e^(−a) = 2^(−k)·e^r, e^r by
        ;; its degree-10 Taylor polynomial (truncation ≤ 0.347^11/11! ≈ 2e-13) in Estrin form
        (local.set $a (f64.abs (local.get $x)))
        (if (f64.gt (local.get $a) (f64.const 708))
          (then (local.set $e (f64.const 0)))
          (else
            (local.set $k (f64.nearest (f64.mul (local.get $a) (f64.const 1.4426950408889634))))
            ;; r = k·ln2 − a, with ln2 split in two so k·ln2hi is exact
            (local.set $r (f64.add
              (f64.sub (f64.mul (local.get $k) (f64.const 0.6931471803691238)) (local.get $a))
              (f64.mul (local.get $k) (f64.const 1.9082149292705877e-10))))
            (local.set $r2 (f64.mul (local.get $r) (local.get $r)))
            (local.set $r4 (f64.mul (local.get $r2) (local.get $r2)))
            ;; Σ r^i/i!, i ≤ 10 = (c0 + c1 r) + r²(c2 + c3 r) + r⁴[(c4 + c5 r) + r²(c6 + c7 r)]
            ;;                    + r⁸[(c8 + c9 r) + r² c10]
            (local.set $e (f64.add
              (f64.add
                (f64.add (f64.const 1) (local.get $r))
                (f64.mul (local.get $r2)
                  (f64.add (f64.const 0.5) (f64.mul (local.get $r) (f64.const 0.16666666666666666)))))
              (f64.add
                (f64.mul (local.get $r4)
                  (f64.add
                    (f64.add (f64.const 0.041666666666666664)
                      (f64.mul (local.get $r) (f64.const 0.008333333333333333)))
                    (f64.mul (local.get $r2)
                      (f64.add (f64.const 0.001388888888888889)
                        (f64.mul (local.get $r) (f64.const 1.984126984126984e-4))))))
                (f64.mul (f64.mul (local.get $r4) (local.get $r4))
                  (f64.add
                    (f64.add (f64.const 2.48015873015873e-5)
                      (f64.mul (local.get $r) (f64.const 2.755731922398589e-6)))
                    (f64.mul (local.get $r2) (f64.const 2.755731922398589e-7)))))))
            ;; × 2^(−k): the exponent field of a double (k ≤ 1022 since a ≤ 708)
            (local.set $e (f64.mul (local.get $e)
              (f64.reinterpret_i64 (i64.shl
                (i64.sub (i64.const 1023) (i64.trunc_f64_s (local.get $k)))
                (i64.const 52)))))))
        ;; log1p(e), e ∈ [0, 1]: c = 1 + e, halved above √2 (adding ln 2), then 2·atanh(s) with
        ;; s = (c − 1)/(c + 1), |s| ≤ 0.172, by its series to s^9 (truncation ≤ 2·0.172^11/11 ≈
        ;; 7e-10 relative; it only feeds the reported loss)
        (local.set $c (f64.add (f64.const 1) (local.get $e)))
        (local.set $k (f64.const 0))
        (if (f64.gt (local.get $c) (f64.const 1.4142135623730951))
          (then
            (local.set $c (f64.mul (local.get $c) (f64.const 0.5)))
            (local.set $k (f64.const 0.6931471805599453))))
        (local.set $r (f64.div (f64.sub (local.get $c) (f64.const 1)) (f64.add (local.get $c) (f64.const 1))))
        (local.set $r2 (f64.mul (local.get $r) (local.get $r)))
        (local.set $sp (f64.add (local.get $k)
          (f64.mul (f64.mul (f64.const 2) (local.get $r))
            (f64.add (f64.const 1) (f64.mul (local.get $r2)
            (f64.add (f64.const 0.3333333333333333) (f64.mul (local.get $r2)
            (f64.add (f64.const 0.2) (f64.mul (local.get $r2)
            (f64.add (f64.const 0.14285714285714285) (f64.mul (local.get $r2)
              (f64.const 0.1111111111111111))))))))))))
        (if (f64.ge (local.get $x) (f64.const 0))
          (then
            (local.set $sig (f64.div (local.get $e) (f64.add (f64.const 1) (local.get $e)))))
          (else
            (local.set $sig (f64.div (f64.const 1) (f64.add (f64.const 1) (local.get $e))))
            (local.set $sp (f64.sub (local.get $sp) (local.get $x)))))
        (local.set $total (f64.add (local.get $total) (local.get $sp)))
        ;; g = −σ(−x) is never 0 unless it underflows; then only L2 would move the rows
        (br_if $triple (i32.and
          (f64.eq (local.get $sig) (f64.const 0)) (f64.eq (local.get $l2) (f64.const 0))))
        ;; s = lr·g = −lr·σ(−x)
        (local.set $sv (f32x4.splat (f32.demote_f64
          (f64.neg (f64.mul (local.get $lr) (local.get $sig))))))
        (local.set $j (i32.const 0))
        (block $udone
          (loop $uloop
            (br_if $udone (i32.ge_u (local.get $j) (local.get $bytes)))
            (local.set $u (v128.load (i32.add (local.get $uo) (local.get $j))))
            (local.set $vp (v128.load (i32.add (local.get $po) (local.get $j))))
            (local.set $vn (v128.load (i32.add (local.get $no) (local.get $j))))
            (v128.store (i32.add (local.get $uo) (local.get $j))
              (f32x4.sub (f32x4.mul (local.get $dv) (local.get $u))
                (f32x4.mul (local.get $sv) (f32x4.sub (local.get $vp) (local.get $vn)))))
            (v128.store (i32.add (local.get $po) (local.get $j))
              (f32x4.sub (f32x4.mul (local.get $dv) (local.get $vp))
                (f32x4.mul (local.get $sv) (local.get $u))))
            (v128.store (i32.add (local.get $no) (local.get $j))
              (f32x4.add (f32x4.mul (local.get $dv) (local.get $vn))
                (f32x4.mul (local.get $sv) (local.get $u))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $uloop)))
        (br $triple)))
    (v128.store (local.get $scratch) (local.get $touch))
    (local.get $total)))
