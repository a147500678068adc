;; recallkit — WebAssembly SIMD (f32x4) kernel for skip-gram with negative sampling (the
;; arithmetic half of src/train/sgns.ts; JsPairKernel there is the reference it is tested against).
;;
;; Source of truth for src/train/sgns-wasm.bytes.ts. After editing, regenerate the embedded bytes
;; with `RECALLKIT_REGEN_WASM=1 node --import tsx --test src/train/sgns-wasm.test.ts` (needs the
;; `wabt` dev dependency); the same test fails when the two drift apart.
;;
;; The memory is imported and shared: every Hogwild worker instantiates this module over the same
;; WebAssembly.Memory, where the JS glue (sgns-wasm.ts) lays out, in bytes:
;;   exp   the σ table, EXP_TABLE_SIZE f32 over [−MAX_EXP, MAX_EXP)
;;   syn0  input vectors,  n × dim f32, row t at syn0 + t·dim·4
;;   syn1  output vectors, n × dim f32
;;   per worker: e (dim f32, the input's gradient) and buf (the pair buffer, i32)
;; Plain loads and stores on syn0/syn1 rows race between workers exactly as word2vec's C threads
;; do (Hogwild: a lost update now and then, no torn floats since every access is 4-byte aligned).
;;
;; buf holds nPairs runs [input, nT, positive, negative₁ … negative_{nT−1}]; for each run
;;   e = 0
;;   for each target t (label 1 for the first, 0 after):
;;     f = syn0[input] · syn1[t];  g = (label − σ(f)) · lr     (σ = 1 from MAX_EXP, 0 below −MAX_EXP;
;;                                                           skip ≠ 0: g = 0 there, gensim's rule)
;;     e += g · syn1[t];  syn1[t] += g · syn0[input]
;;   syn0[input] += e
;; dim must be a multiple of 4 (checked by the glue). Without FMA each term rounds as f32 mul then
;; f32 add; the JS reference accumulates in float64, so the two agree to ~1e-6 relative per step.
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func (export "pairs")
    (param $syn0 i32) (param $syn1 i32) (param $exp i32) (param $buf i32)
    (param $n i32) (param $dim i32) (param $lr f32) (param $e i32) (param $skip i32)
    (local $bytes i32) (local $bytes2 i32) (local $k i32) (local $p i32) (local $ri i32)
    (local $nT i32) (local $q i32) (local $ro i32) (local $j i32) (local $i i32)
    (local $f f32) (local $g f32) (local $label f32)
    (local $a0 v128) (local $a1 v128) (local $gv v128) (local $c v128) (local $h v128)
    (local $touch v128) (local $row i32)
    (local.set $bytes (i32.shl (local.get $dim) (i32.const 2)))
    ;; the part of a row handled 32 bytes at a time; a 16-byte tail remains when dim ≡ 4 (mod 8)
    (local.set $bytes2 (i32.and (local.get $bytes) (i32.const -32)))
    (local.set $p (local.get $buf))
    (local.set $k (i32.const 0))
    (block $pdone
      (loop $ploop
        (br_if $pdone (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $ri (i32.add (local.get $syn0)
          (i32.mul (i32.load (local.get $p)) (local.get $bytes))))
        (local.set $nT (i32.load offset=4 (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        ;; touch every 64-byte line of the input row and of all target rows first, so that their
        ;; cache misses overlap instead of arriving one target at a time (wasm has no prefetch;
        ;; the loads feed $touch, stored into e's first slot and then overwritten, so they stay)
        (local.set $touch (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $tdone
          (loop $tloop
            (br_if $tdone (i32.ge_u (local.get $j) (local.get $bytes)))
            (local.set $touch (v128.or (local.get $touch)
              (v128.load (i32.add (local.get $ri) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $tloop)))
        (local.set $q (i32.const 0))
        (block $rdone
          (loop $rloop
            (br_if $rdone (i32.ge_u (local.get $q) (local.get $nT)))
            (local.set $row (i32.add (local.get $syn1)
              (i32.mul (i32.load (i32.add (local.get $p) (i32.shl (local.get $q) (i32.const 2))))
                (local.get $bytes))))
            (local.set $j (i32.const 0))
            (block $t2done
              (loop $t2loop
                (br_if $t2done (i32.ge_u (local.get $j) (local.get $bytes)))
                (local.set $touch (v128.or (local.get $touch)
                  (v128.load (i32.add (local.get $row) (local.get $j)))))
                (local.set $j (i32.add (local.get $j) (i32.const 64)))
                (br $t2loop)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $rloop)))
        (v128.store (local.get $e) (local.get $touch))
        ;; e = 0
        (local.set $j (i32.const 0))
        (block $zdone
          (loop $zloop
            (br_if $zdone (i32.ge_u (local.get $j) (local.get $bytes)))
            (v128.store (i32.add (local.get $e) (local.get $j)) (v128.const i32x4 0 0 0 0))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $zloop)))
        (local.set $label (f32.const 1))
        (local.set $q (i32.const 0))
        (block $qdone
          (loop $qloop
            (br_if $qdone (i32.ge_u (local.get $q) (local.get $nT)))
            (local.set $ro (i32.add (local.get $syn1)
              (i32.mul (i32.load (local.get $p)) (local.get $bytes))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            ;; f = syn0[input] · syn1[t], two accumulators
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $j (i32.const 0))
            (block $ddone
              (loop $dloop
                (br_if $ddone (i32.ge_u (local.get $j) (local.get $bytes2)))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
                  (v128.load (i32.add (local.get $ri) (local.get $j)))
                  (v128.load (i32.add (local.get $ro) (local.get $j))))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul
                  (v128.load offset=16 (i32.add (local.get $ri) (local.get $j)))
                  (v128.load offset=16 (i32.add (local.get $ro) (local.get $j))))))
                (local.set $j (i32.add (local.get $j) (i32.const 32)))
                (br $dloop)))
            (if (i32.lt_u (local.get $j) (local.get $bytes))
              (then
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
                  (v128.load (i32.add (local.get $ri) (local.get $j)))
                  (v128.load (i32.add (local.get $ro) (local.get $j))))))))
            (local.set $a0 (f32x4.add (local.get $a0) (local.get $a1)))
            (local.set $f (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
              (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
            ;; g = (label − σ(f)) · lr, σ from the table (index clamped to the last entry)
            ;; saturated (|f| ≥ MAX_EXP): word2vec's C code clamps σ to 1 or 0; with $skip ≠ 0 the
            ;; target is skipped, as gensim does
            (if (f32.ge (local.get $f) (f32.const 6))
              (then (local.set $g (select (f32.const 0) (f32.sub (local.get $label) (f32.const 1))
                (local.get $skip))))
              (else
                (if (f32.le (local.get $f) (f32.const -6))
                  (then (local.set $g (select (f32.const 0) (local.get $label) (local.get $skip))))
                  (else
                    (local.set $i (i32.trunc_f32_s (f32.mul
                      (f32.add (local.get $f) (f32.const 6))
                      (f32.const 83.33333333))))
                    (if (i32.gt_s (local.get $i) (i32.const 999)) (then (local.set $i (i32.const 999))))
                    (local.set $g (f32.sub (local.get $label)
                      (f32.load (i32.add (local.get $exp) (i32.shl (local.get $i) (i32.const 2))))))))))
            (local.set $g (f32.mul (local.get $g) (local.get $lr)))
            (if (f32.ne (local.get $g) (f32.const 0))
              (then
                (local.set $gv (f32x4.splat (local.get $g)))
                (local.set $j (i32.const 0))
                (block $udone
                  (loop $uloop
                    (br_if $udone (i32.ge_u (local.get $j) (local.get $bytes)))
                    (local.set $c (v128.load (i32.add (local.get $ro) (local.get $j))))
                    (local.set $h (v128.load (i32.add (local.get $ri) (local.get $j))))
                    (v128.store (i32.add (local.get $e) (local.get $j))
                      (f32x4.add (v128.load (i32.add (local.get $e) (local.get $j)))
                        (f32x4.mul (local.get $gv) (local.get $c))))
                    (v128.store (i32.add (local.get $ro) (local.get $j))
                      (f32x4.add (local.get $c) (f32x4.mul (local.get $gv) (local.get $h))))
                    (local.set $j (i32.add (local.get $j) (i32.const 16)))
                    (br $uloop)))))
            (local.set $label (f32.const 0))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $qloop)))
        ;; syn0[input] += e
        (local.set $j (i32.const 0))
        (block $sdone
          (loop $sloop
            (br_if $sdone (i32.ge_u (local.get $j) (local.get $bytes)))
            (v128.store (i32.add (local.get $ri) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $ri) (local.get $j)))
                (v128.load (i32.add (local.get $e) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $sloop)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $ploop)))))
