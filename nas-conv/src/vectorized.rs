//! Running a hot loop compiled for the widest vectors the CPU has.
//!
//! The crate is built for baseline x86-64 (4-wide SSE vectors) so that one binary runs anywhere.
//! Long contiguous updates, like the depthwise convolution's, run much faster with AVX-512 on CPUs
//! that have it; short ones (the Winograd transforms' rows of 4-28 tiles) run slower, their
//! remainders being longer, so only the former use it. The matrix products need none of this:
//! `gemm` picks its kernels at run time on its own.

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
