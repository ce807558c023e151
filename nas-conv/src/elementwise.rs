//! Element-wise maps over whole feature maps in place: the smooth activations (GELU, SiLU, hard
//! swish) share this loop, chunked over rayon's threads and compiled for the widest vectors the
//! CPU has.

use nas_simd::vectorized;
use rayon::prelude::*;

/// Values per parallel chunk.
const CHUNK: usize = 1 << 14;

/// Replaces every value `v` of `values` by `f(v)`; `f` should be `#[inline(always)]` so that it
/// is compiled into the vectorised loop.
#[inline(always)]
pub(crate) fn map_in_place(values: &mut [f32], f: impl Fn(f32) -> f32 + Copy + Send + Sync) {
    values.par_chunks_mut(CHUNK).for_each(|chunk| {
        vectorized(
            #[inline(always)]
            || {
                for v in chunk.iter_mut() {
                    *v = f(*v);
                }
            },
        )
    });
}

/// Replaces every value `v` of `values` by `f(v).0` and returns the `f(v).1`s, in order: an
/// activation together with its derivative, for backward passes; `f` should be
/// `#[inline(always)]`.
#[inline(always)]
pub(crate) fn map_with_slopes(values: &mut [f32], f: impl Fn(f32) -> (f32, f32) + Copy + Send + Sync) -> Vec<f32> {
    let mut slopes = vec![0f32; values.len()];
    values
        .par_chunks_mut(CHUNK)
        .zip(slopes.par_chunks_mut(CHUNK))
        .for_each(|(chunk, slope_chunk)| {
            vectorized(
                #[inline(always)]
                || {
                    for (v, s) in chunk.iter_mut().zip(slope_chunk.iter_mut()) {
                        (*v, *s) = f(*v);
                    }
                },
            )
        });
    slopes
}
