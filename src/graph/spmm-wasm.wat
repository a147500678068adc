;; Sparse × dense product for graph propagation, WebAssembly SIMD (f32x4).
;; out[r] = Σ_e val[e] · x[idx[e]] for rows [r0, r1); rows are `dim` floats, dim a multiple of 16.
;; For each 16-float slice of the output row the row's edges are walked with four f32x4
;; accumulators, so `out` is written once per slice. All pointers are byte offsets.
(module
  (memory (export "memory") 1)
  (func (export "spmm")
    (param $off i32) (param $idx i32) (param $val i32) (param $x i32)
    (param $dim i32) (param $out i32) (param $r0 i32) (param $r1 i32)
    (local $r i32) (local $e i32) (local $e0 i32) (local $e1 i32)
    (local $j i32) (local $rowBytes i32) (local $o i32) (local $s i32) (local $w v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $r (local.get $r0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $e0 (i32.load (i32.add (local.get $off) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $e1 (i32.load offset=4 (i32.add (local.get $off) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $j (i32.const 0))
        (block $slicesDone
          (loop $slices
            (br_if $slicesDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $e (local.get $e0))
            (block $edgesDone
              (loop $edges
                (br_if $edgesDone (i32.ge_u (local.get $e) (local.get $e1)))
                (local.set $w (f32x4.splat (f32.load (i32.add (local.get $val) (i32.shl (local.get $e) (i32.const 2))))))
                (local.set $s
                  (i32.add
                    (i32.add (local.get $x) (local.get $j))
                    (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $e) (i32.const 2)))) (local.get $rowBytes))))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $w) (v128.load (local.get $s)))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $w) (v128.load offset=16 (local.get $s)))))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $w) (v128.load offset=32 (local.get $s)))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $w) (v128.load offset=48 (local.get $s)))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $edges)))
            (v128.store (i32.add (local.get $o) (local.get $j)) (local.get $a0))
            (v128.store offset=16 (i32.add (local.get $o) (local.get $j)) (local.get $a1))
            (v128.store offset=32 (i32.add (local.get $o) (local.get $j)) (local.get $a2))
            (v128.store offset=48 (i32.add (local.get $o) (local.get $j)) (local.get $a3))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $slices)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))))
