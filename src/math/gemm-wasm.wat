;; recallkit — WebAssembly SIMD (f32x4) kernel for the "NT" score product of evaluation and
;; brute-force retrieval: C = A · Bᵀ, A = queries (m × dim), B = items (n × dim).
;;
;; Source of truth for src/math/gemm-wasm.bytes.ts. After editing, regenerate the embedded bytes
;; with `RECALLKIT_REGEN_WASM=1 node --import tsx --test src/math/gemm-wasm.test.ts` (needs the
;; `wabt` dev dependency); the same test fails when the two drift apart.
;;
;; Operands are packed by the JS glue (gemm-wasm.ts, packPanelsInto) so that every load in the
;; inner loop is contiguous and its offset a constant:
;;   A: mt tiles of 4 rows,  tile t at a + t·dim·16, element (row 4t+r, p) at +p·16 + r·4
;;   B: nt panels of 8 rows, panel q at b + q·dim·32, element (row 8q+s, p) at +p·32 + s·4
;;   C: row-major with leading dimension ldc (floats): C[i, j] at c + (i·ldc + j)·4,
;;      written for i < 4·mt, j < 8·nt (padding rows/columns included; the caller ignores them).
;;
;; Micro-kernel: a 4 × 8 tile of C lives in 8 v128 accumulators s{r}{v}; per p it loads the two
;; B vectors once and broadcasts each A value (v128.load32_splat):
;;   s{r}{v} += splat(A[r, p]) · B[p, 4v .. 4v+4)            (8 mul + 8 add for 64 flops)
;; 8 accumulators + 2 B vectors + 1 broadcast fit the 16 xmm registers V8 allocates on x64; the
;; 6×8, 4×12, 8×4 and 3×12 shapes measured 28–35 GFLOP/s against 40–42 for this one (AMD EPYC,
;; Node 20, dim 64). There is no FMA in baseline wasm SIMD, so each term rounds twice (f32 mul,
;; f32 add): results differ from a float64 reference by ~dim·2⁻²⁴·Σ|aᵢbᵢ|.
;;
;; Loop order: the B panel (8·dim floats, 2 KiB at dim 64) stays in L1 while every A tile of the
;; block passes under it; the caller keeps the A block (≤ 16 KiB) and the C block in L1/L2.
;; Requires dim ≥ 1 (the p loop is a do-while); mt = 0 or nt = 0 writes nothing.
(module
  (memory (export "memory") 1)

  (func (export "gemm4x8")
    (param $a i32) (param $mt i32) (param $b i32) (param $nt i32)
    (param $dim i32) (param $c i32) (param $ldc i32)
    (local $jt i32) (local $it i32) (local $p i32)
    (local $ap i32) (local $bp i32) (local $panel i32) (local $cp i32) (local $ldcb i32)
    (local $x v128) (local $y0 v128) (local $y1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $ldcb (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $jt (i32.const 0))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $jt) (local.get $nt)))
        ;; panel = b + jt·dim·32
        (local.set $panel
          (i32.add (local.get $b) (i32.mul (local.get $jt) (i32.shl (local.get $dim) (i32.const 5)))))
        (local.set $it (i32.const 0))
        (local.set $ap (local.get $a))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $it) (local.get $mt)))
            (local.set $bp (local.get $panel))
            (local.set $s00 (v128.const i32x4 0 0 0 0))
            (local.set $s01 (v128.const i32x4 0 0 0 0))
            (local.set $s10 (v128.const i32x4 0 0 0 0))
            (local.set $s11 (v128.const i32x4 0 0 0 0))
            (local.set $s20 (v128.const i32x4 0 0 0 0))
            (local.set $s21 (v128.const i32x4 0 0 0 0))
            (local.set $s30 (v128.const i32x4 0 0 0 0))
            (local.set $s31 (v128.const i32x4 0 0 0 0))
            ;; ap walks this A tile (it advances 16 bytes per p, so after the loop it points at
            ;; the next tile); bp walks the panel 32 bytes per p.
            (local.set $p (local.get $dim))
            (loop $ploop
              (local.set $y0 (v128.load (local.get $bp)))
              (local.set $y1 (v128.load offset=16 (local.get $bp)))
              (local.set $x (v128.load32_splat (local.get $ap)))
              (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x) (local.get $y0))))
              (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x) (local.get $y1))))
              (local.set $x (v128.load32_splat offset=4 (local.get $ap)))
              (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x) (local.get $y0))))
              (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x) (local.get $y1))))
              (local.set $x (v128.load32_splat offset=8 (local.get $ap)))
              (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $x) (local.get $y0))))
              (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $x) (local.get $y1))))
              (local.set $x (v128.load32_splat offset=12 (local.get $ap)))
              (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $x) (local.get $y0))))
              (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $x) (local.get $y1))))
              (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
              (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
              (br_if $ploop (local.tee $p (i32.sub (local.get $p) (i32.const 1)))))
            ;; cp = c + (4·it·ldc + 8·jt)·4; one row of the tile per ldc
            (local.set $cp
              (i32.add (local.get $c)
                (i32.shl
                  (i32.add
                    (i32.mul (i32.shl (local.get $it) (i32.const 2)) (local.get $ldc))
                    (i32.shl (local.get $jt) (i32.const 3)))
                  (i32.const 2))))
            (v128.store (local.get $cp) (local.get $s00))
            (v128.store offset=16 (local.get $cp) (local.get $s01))
            (local.set $cp (i32.add (local.get $cp) (local.get $ldcb)))
            (v128.store (local.get $cp) (local.get $s10))
            (v128.store offset=16 (local.get $cp) (local.get $s11))
            (local.set $cp (i32.add (local.get $cp) (local.get $ldcb)))
            (v128.store (local.get $cp) (local.get $s20))
            (v128.store offset=16 (local.get $cp) (local.get $s21))
            (local.set $cp (i32.add (local.get $cp) (local.get $ldcb)))
            (v128.store (local.get $cp) (local.get $s30))
            (v128.store offset=16 (local.get $cp) (local.get $s31))
            (local.set $it (i32.add (local.get $it) (i32.const 1)))
            (br $iloop)))
        (local.set $jt (i32.add (local.get $jt) (i32.const 1)))
        (br $jloop))))

  ;; Candidate filter for top-K selection over a block of scores: for rows r < m of C (leading
  ;; dimension ldc floats, at byte c) and groups g < ng ≤ 256 of 8 columns, computes the 8-bit
  ;; mask of columns with C[r, 8g + b] > thr[r] (f32 at byte thr + 4r; bit b ↔ column 8g + b) and,
  ;; when it is non-zero, appends the i32 (r << 16) | (g << 8) | mask to the list at byte out.
  ;; Returns the number of entries (≤ m·ng). Branch-free: every group's entry is stored and the
  ;; cursor advances by 4 bytes only when the mask is non-zero, so random outcomes cost no
  ;; mispredictions. With a stale (lower) threshold the list is a superset of the exact one; the
  ;; JS glue re-checks each listed score against the live threshold.
  (func (export "above8")
    (param $c i32) (param $ldc i32) (param $m i32) (param $ng i32) (param $thr i32) (param $out i32)
    (result i32)
    (local $r i32) (local $g i32) (local $p i32) (local $o i32) (local $mask i32) (local $t v128)
    (local.set $o (local.get $out))
    (local.set $r (i32.const 0))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $m)))
        (local.set $t (v128.load32_splat (i32.add (local.get $thr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $p
          (i32.add (local.get $c) (i32.shl (i32.mul (local.get $r) (local.get $ldc)) (i32.const 2))))
        (local.set $g (i32.const 0))
        (block $gdone
          (loop $gloop
            (br_if $gdone (i32.ge_u (local.get $g) (local.get $ng)))
            (local.set $mask
              (i32.or
                (i32x4.bitmask (f32x4.gt (v128.load (local.get $p)) (local.get $t)))
                (i32.shl
                  (i32x4.bitmask (f32x4.gt (v128.load offset=16 (local.get $p)) (local.get $t)))
                  (i32.const 4))))
            (i32.store (local.get $o)
              (i32.or
                (i32.or (i32.shl (local.get $r) (i32.const 16)) (i32.shl (local.get $g) (i32.const 8)))
                (local.get $mask)))
            (local.set $o
              (i32.add (local.get $o) (select (i32.const 4) (i32.const 0) (local.get $mask))))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br $gloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop)))
    (i32.shr_u (i32.sub (local.get $o) (local.get $out)) (i32.const 2))))
