;; recallkit — WebAssembly SIMD (f32x4) kernel of the implicit-ALS conjugate-gradient row update
;; (same recurrence as cgSolveRows in als-kernels.ts, which stays the JS fallback and reference).
;;
;; Source of truth for src/recall/als-cg-wasm.bytes.ts. After editing, regenerate the embedded
;; bytes with `RECALLKIT_REGEN_WASM=1 node --import tsx --test src/recall/als-cg-wasm.test.ts`
;; (needs the `wabt` dev dependency); the same test fails when the two drift apart.
;;
;; The module imports one *shared* memory that holds the whole ALS state (als-engine.ts lays it
;; out): both factor tables, both CSR matrices with confidences, G = FᵀF + λI in f32, and one
;; scratch block per participant; every worker instantiates this module over the same memory.
;; All addresses are byte offsets; f is a multiple of 4 (the glue falls back to JS otherwise).
;;
;; Per row u (rows r0 ≤ u < r1 of X, fixed side Y, entries e ∈ [off[u], off[u+1]), d_u = reg[u] the
;; row's regulariser beyond the λ inside G):
;;   r = −(G + d_u I) x + Σ_e (c_e − (c_e − 1) y_e·x) y_e ;  p = r ;  ρ = r·r
;;   repeat steps: Ap = (G + d_u I) p + Σ_e (c_e − 1)(y_e·p) y_e ;  α = ρ / p·Ap ;  x += α p ; r −= α Ap ;
;;                 ρ' = r·r ; p = r + (ρ'/ρ) p ; ρ = ρ'
;; Precision: f32 lanes with 4 independent accumulators per dot (like implicit's sdot/saxpy), no FMA
;; in baseline wasm SIMD, so each term rounds twice. Scalars (α, β, ρ) are carried in f64.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Σ_j a[j]·b[j] over n floats (n % 4 = 0): 4 accumulators over 16-float strides, then a 4-float tail.
  (func $dot (param $a i32) (param $b i32) (param $n i32) (result f64)
    (local $end i32) (local $end16 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done16
      (loop $l16
        (br_if $done16 (i32.ge_u (local.get $a) (local.get $end16)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load offset=0 (local.get $a)) (v128.load offset=0 (local.get $b)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b)))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (br $l16)))
    (block $done4
      (loop $l4
        (br_if $done4 (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $l4)))
    (local.set $s0 (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
    (f64.add
      (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $s0))) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $s0))))
      (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $s0))) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $s0))))))

  ;; y[j] += s·x[j] over n floats (n % 4 = 0).
  (func $axpy (param $s f32) (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $sv v128)
    (local.set $sv (f32x4.splat (local.get $s)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $y) (f32x4.add (v128.load (local.get $y)) (f32x4.mul (local.get $sv) (v128.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $l))))

  ;; p[j] = r[j] + beta·p[j] over n floats.
  (func $xpby (param $r i32) (param $beta f32) (param $p i32) (param $n i32)
    (local $end i32) (local $bv v128)
    (local.set $bv (f32x4.splat (local.get $beta)))
    (local.set $end (i32.add (local.get $r) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $r) (local.get $end)))
        (v128.store (local.get $p) (f32x4.add (v128.load (local.get $r)) (f32x4.mul (local.get $bv) (v128.load (local.get $p)))))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l))))

  ;; out = sign·(G v), G f×f row-major f32 and symmetric, so out = Σ_b v[b]·G[b, ·]: each row of G
  ;; is read once, contiguously, against a broadcast v[b]. Outputs go in blocks of 32 floats held in 8
  ;; accumulators (+ the broadcast + one load fit V8's 16 xmm registers), then blocks of 4.
  (func $gemv (param $G i32) (param $v i32) (param $out i32) (param $f i32) (param $sign f32)
    (local $row i32) (local $j i32) (local $g i32) (local $b i32) (local $vend i32) (local $o i32)
    (local $sv v128) (local $sg v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $row (i32.shl (local.get $f) (i32.const 2)))
    (local.set $vend (i32.add (local.get $v) (local.get $row)))
    (local.set $sg (f32x4.splat (local.get $sign)))
    (block $done32
      (loop $blk32
        (br_if $done32 (i32.gt_u (i32.add (local.get $j) (i32.const 128)) (local.get $row)))
        (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $a4 (v128.const i32x4 0 0 0 0)) (local.set $a5 (v128.const i32x4 0 0 0 0))
        (local.set $a6 (v128.const i32x4 0 0 0 0)) (local.set $a7 (v128.const i32x4 0 0 0 0))
        (local.set $g (i32.add (local.get $G) (local.get $j)))
        (local.set $b (local.get $v))
        (loop $col
          (local.set $sv (v128.load32_splat (local.get $b)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $sv) (v128.load offset=0 (local.get $g)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $sv) (v128.load offset=16 (local.get $g)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $sv) (v128.load offset=32 (local.get $g)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $sv) (v128.load offset=48 (local.get $g)))))
          (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $sv) (v128.load offset=64 (local.get $g)))))
          (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $sv) (v128.load offset=80 (local.get $g)))))
          (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $sv) (v128.load offset=96 (local.get $g)))))
          (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $sv) (v128.load offset=112 (local.get $g)))))
          (local.set $g (i32.add (local.get $g) (local.get $row)))
          (local.set $b (i32.add (local.get $b) (i32.const 4)))
          (br_if $col (i32.lt_u (local.get $b) (local.get $vend))))
        (local.set $o (i32.add (local.get $out) (local.get $j)))
        (v128.store offset=0 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a0)))
        (v128.store offset=16 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a1)))
        (v128.store offset=32 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a2)))
        (v128.store offset=48 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a3)))
        (v128.store offset=64 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a4)))
        (v128.store offset=80 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a5)))
        (v128.store offset=96 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a6)))
        (v128.store offset=112 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a7)))
        (local.set $j (i32.add (local.get $j) (i32.const 128)))
        (br $blk32)))
    (block $done4
      (loop $blk4
        (br_if $done4 (i32.ge_u (local.get $j) (local.get $row)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $g (i32.add (local.get $G) (local.get $j)))
        (local.set $b (local.get $v))
        (loop $col4
          (local.set $sv (v128.load32_splat (local.get $b)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $sv) (v128.load offset=0 (local.get $g)))))
          (local.set $g (i32.add (local.get $g) (local.get $row)))
          (local.set $b (i32.add (local.get $b) (i32.const 4)))
          (br_if $col4 (i32.lt_u (local.get $b) (local.get $vend))))
        (local.set $o (i32.add (local.get $out) (local.get $j)))
        (v128.store offset=0 (local.get $o) (f32x4.mul (local.get $sg) (local.get $a0)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $blk4))))

  ;; v[j] = src[j] over n floats.
  (func $copy (param $src i32) (param $dst i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (i32.shl (local.get $n) (i32.const 2))))

  ;; CG update of rows [r0, r1) of X. Scratch at $s: x, r, p, Ap (f floats each, 16-byte aligned).
  (func (export "cgRows")
    (param $X i32) (param $Y i32) (param $f i32) (param $off i32) (param $idx i32) (param $conf i32)
    (param $G i32) (param $reg i32) (param $r0 i32) (param $r1 i32) (param $steps i32) (param $s i32)
    (local $d f32) (local $u i32) (local $xo i32) (local $e i32) (local $e1 i32) (local $yo i32) (local $c f32)
    (local $row i32) (local $x i32) (local $r i32) (local $p i32) (local $ap i32) (local $step i32)
    (local $rsold f64) (local $rsnew f64) (local $pap f64) (local $alpha f64)
    (local.set $row (i32.shl (local.get $f) (i32.const 2)))
    (local.set $x (local.get $s))
    (local.set $r (i32.add (local.get $x) (local.get $row)))
    (local.set $p (i32.add (local.get $r) (local.get $row)))
    (local.set $ap (i32.add (local.get $p) (local.get $row)))
    (local.set $u (local.get $r0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $u) (local.get $r1)))
        (block $next
          (local.set $xo (i32.add (local.get $X) (i32.mul (local.get $u) (local.get $row))))
          (local.set $e (i32.load (i32.add (local.get $off) (i32.shl (local.get $u) (i32.const 2)))))
          (local.set $e1 (i32.load offset=4 (i32.add (local.get $off) (i32.shl (local.get $u) (i32.const 2)))))
          (if (i32.eq (local.get $e) (local.get $e1))
            (then
              (memory.fill (local.get $xo) (i32.const 0) (local.get $row))
              (br $next)))
          ;; r = b − A x
          (call $copy (local.get $xo) (local.get $x) (local.get $f))
          (call $gemv (local.get $G) (local.get $x) (local.get $r) (local.get $f) (f32.const -1))
          (local.set $d (f32.load (i32.add (local.get $reg) (i32.shl (local.get $u) (i32.const 2)))))
          (call $axpy (f32.neg (local.get $d)) (local.get $x) (local.get $r) (local.get $f))
          (block $resDone
            (loop $res
              (br_if $resDone (i32.ge_u (local.get $e) (local.get $e1)))
              (local.set $yo (i32.add (local.get $Y)
                (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $e) (i32.const 2)))) (local.get $row))))
              (local.set $c (f32.load (i32.add (local.get $conf) (i32.shl (local.get $e) (i32.const 2)))))
              (call $axpy
                (f32.demote_f64 (f64.sub (f64.promote_f32 (local.get $c))
                  (f64.mul (f64.promote_f32 (f32.sub (local.get $c) (f32.const 1)))
                    (call $dot (local.get $yo) (local.get $x) (local.get $f)))))
                (local.get $yo) (local.get $r) (local.get $f))
              (local.set $e (i32.add (local.get $e) (i32.const 1)))
              (br $res)))
          (call $copy (local.get $r) (local.get $p) (local.get $f))
          (local.set $rsold (call $dot (local.get $r) (local.get $r) (local.get $f)))
          (br_if $next (f64.lt (local.get $rsold) (f64.const 1e-20)))
          (local.set $step (i32.const 0))
          (block $cgDone
            (loop $cg
              (br_if $cgDone (i32.ge_u (local.get $step) (local.get $steps)))
              ;; Ap = G p + Σ_e (c_e − 1)(y_e·p) y_e
              (call $gemv (local.get $G) (local.get $p) (local.get $ap) (local.get $f) (f32.const 1))
              (call $axpy (local.get $d) (local.get $p) (local.get $ap) (local.get $f))
              (local.set $e (i32.load (i32.add (local.get $off) (i32.shl (local.get $u) (i32.const 2)))))
              (block $spDone
                (loop $sp
                  (br_if $spDone (i32.ge_u (local.get $e) (local.get $e1)))
                  (local.set $yo (i32.add (local.get $Y)
                    (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $e) (i32.const 2)))) (local.get $row))))
                  (call $axpy
                    (f32.demote_f64 (f64.mul
                      (f64.promote_f32 (f32.sub (f32.load (i32.add (local.get $conf) (i32.shl (local.get $e) (i32.const 2)))) (f32.const 1)))
                      (call $dot (local.get $yo) (local.get $p) (local.get $f))))
                    (local.get $yo) (local.get $ap) (local.get $f))
                  (local.set $e (i32.add (local.get $e) (i32.const 1)))
                  (br $sp)))
              (local.set $pap (call $dot (local.get $p) (local.get $ap) (local.get $f)))
              (br_if $cgDone (i32.eqz (f64.gt (local.get $pap) (f64.const 0))))
              (local.set $alpha (f64.div (local.get $rsold) (local.get $pap)))
              (call $axpy (f32.demote_f64 (local.get $alpha)) (local.get $p) (local.get $x) (local.get $f))
              (call $axpy (f32.demote_f64 (f64.neg (local.get $alpha))) (local.get $ap) (local.get $r) (local.get $f))
              (local.set $rsnew (call $dot (local.get $r) (local.get $r) (local.get $f)))
              (br_if $cgDone (f64.lt (local.get $rsnew) (f64.const 1e-20)))
              (call $xpby (local.get $r) (f32.demote_f64 (f64.div (local.get $rsnew) (local.get $rsold))) (local.get $p) (local.get $f))
              (local.set $rsold (local.get $rsnew))
              (local.set $step (i32.add (local.get $step) (i32.const 1)))
              (br $cg)))
          (call $copy (local.get $x) (local.get $xo) (local.get $f)))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $rows))))
)
