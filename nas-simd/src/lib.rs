//! Running a hot loop compiled for the widest vectors the CPU has.
//!
//! nas is built for baseline x86-64 (4-wide SSE vectors) so that one binary runs anywhere. Long
//! contiguous loops (a depthwise convolution's updates, k-means' rows of 224 grid pixels) run much
//! faster with AVX-512 on CPUs that have it; short ones (the Winograd transforms' rows of 4-28
//! tiles) run slower, their remainders being longer, so each use is measured first. The matrix
//! products need none of this: `gemm` picks its kernels at run time on its own.

#![warn(missing_docs)]

/// Calls `f`, compiled with AVX-512F when this CPU supports it. `f` must be a closure marked
/// `#[inline(always)]` whose hot loops are inlined into it, so they are compiled inside the
/// AVX-512 function. Results are identical either way (no fused multiply-adds are introduced).
#[inline(always)]
pub fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has just been found to support AVX-512F.
        return unsafe { with_avx512(f) };
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::vectorized;

    /// A long row update and a running sum, as the callers do.
    fn work(a: &[f32], b: &[f32]) -> (Vec<f32>, f32) {
        let row: Vec<f32> = a.iter().zip(b).map(|(x, y)| 0.25 * x - 1.5 * y + x * y).collect();
        let total = row.iter().fold(0f32, |s, v| s + v);
        (row, total)
    }

    #[test]
    fn results_equal_the_baseline_build_bit_for_bit() {
        let a: Vec<f32> = (0..1001).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..1001).map(|i| (i as f32 * 1.13).cos()).collect();
        let plain = work(&a, &b);
        let wide = vectorized(
            #[inline(always)]
            || work(&a, &b),
        );
        assert_eq!(plain.0, wide.0);
        assert_eq!(plain.1.to_bits(), wide.1.to_bits());
    }
}
