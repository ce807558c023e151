//! Fixed-order arithmetic kernels on rows of f32 features.
//!
//! Every kernel accumulates in `LANES` independent partial sums (lane `l` takes the elements
//! `l, l + 16, l + 32, ...`) that are added in a fixed order at the end, then the tail; and
//! Rust never fuses a multiply and an add. So a result depends only on its inputs: not on
//! the thread that computed it, not on the other rows or centres computed with it, and not
//! on the instruction set. Each kernel exists portable and with AVX2 (picked at run time);
//! both do the same operations in the same order and agree bitwise.
//!
//! `products` is the matrix product `X C^T` behind k-means' distances
//! (`||x||^2 - 2 x.c + ||c||^2`) for few centres. It streams one row at a time, sequentially,
//! against up to 6 centres at once (12 AVX2 accumulators), which keeps the hardware
//! prefetcher on a single stream. On 50176 x 896 rows by 5 centres it runs at the speed of
//! a plain read of the data; matrixmultiply's general kernel, which packs both operands
//! first, took 7 times as long.

/// Independent partial sums per accumulator (two AVX2 registers of f32).
const LANES: usize = 16;

/// Largest group of centres handled in one pass over a row.
const MAX_GROUP: usize = 6;

/// Sum of the lanes in a fixed order (a pairwise tree).
#[inline(always)]
fn hsum(a: &[f32; LANES]) -> f32 {
    let mut h = [0f32; 8];
    for l in 0..8 {
        h[l] = a[l] + a[l + 8];
    }
    ((h[0] + h[4]) + (h[2] + h[6])) + ((h[1] + h[5]) + (h[3] + h[7]))
}

/// Dot products of one row with `J` centres (all of one length).
trait Block {
    fn block<const J: usize>(x: &[f32], c: [&[f32]; J]) -> [f32; J];
}

/// The portable block.
struct Portable;

impl Block for Portable {
    #[inline(always)]
    fn block<const J: usize>(x: &[f32], c: [&[f32]; J]) -> [f32; J] {
        let d = x.len();
        let full = d - d % LANES;
        let mut acc = [[0f32; LANES]; J];
        let mut i = 0;
        while i < full {
            let xb = &x[i..i + LANES];
            for j in 0..J {
                let cb = &c[j][i..i + LANES];
                for l in 0..LANES {
                    acc[j][l] += xb[l] * cb[l];
                }
            }
            i += LANES;
        }
        let mut out = [0f32; J];
        for j in 0..J {
            let mut tail = 0f32;
            for t in full..d {
                tail += x[t] * c[j][t];
            }
            out[j] = hsum(&acc[j]) + tail;
        }
        out
    }
}

/// The same block with explicit AVX2 instructions. Only reached after the CPU was checked.
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Block for Avx2 {
    #[inline(always)]
    fn block<const J: usize>(x: &[f32], c: [&[f32]; J]) -> [f32; J] {
        // SAFETY: `Avx2` is only used by `products_avx2`, which `products` calls after
        // checking that the CPU has AVX2.
        unsafe { avx2_block(x, c) }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn avx2_block<const J: usize>(x: &[f32], c: [&[f32]; J]) -> [f32; J] {
    use std::arch::x86_64::{_mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps, _mm256_storeu_ps};
    let d = x.len();
    let full = d - d % LANES;
    for cj in &c {
        assert!(cj.len() >= d, "centre shorter than the row");
    }
    let mut lo = [_mm256_setzero_ps(); J];
    let mut hi = [_mm256_setzero_ps(); J];
    let mut i = 0;
    while i < full {
        // In bounds: i + 16 <= full <= d <= every length.
        let x0 = _mm256_loadu_ps(x.as_ptr().add(i));
        let x1 = _mm256_loadu_ps(x.as_ptr().add(i + 8));
        for j in 0..J {
            let p = c[j].as_ptr().add(i);
            lo[j] = _mm256_add_ps(lo[j], _mm256_mul_ps(x0, _mm256_loadu_ps(p)));
            hi[j] = _mm256_add_ps(hi[j], _mm256_mul_ps(x1, _mm256_loadu_ps(p.add(8))));
        }
        i += LANES;
    }
    let mut out = [0f32; J];
    for j in 0..J {
        let mut lanes = [0f32; LANES];
        _mm256_storeu_ps(lanes.as_mut_ptr(), lo[j]);
        _mm256_storeu_ps(lanes.as_mut_ptr().add(8), hi[j]);
        let mut tail = 0f32;
        for t in full..d {
            tail += x[t] * c[j][t];
        }
        out[j] = hsum(&lanes) + tail;
    }
    out
}

/// `out = rows . cents^T` with the given block. The centres are split into as few groups of
/// at most [`MAX_GROUP`] as possible, of balanced sizes (k = 5: one group; 7: 4 + 3), so that
/// each group keeps enough independent sums in flight; the grouping changes no result.
#[inline(always)]
fn products_with<B: Block>(rows: &[f32], cents: &[f32], d: usize, out: &mut [f32]) {
    let k = cents.len() / d;
    if k == 0 || d == 0 {
        return;
    }
    let c = |j: usize| &cents[j * d..(j + 1) * d];
    let groups = k.div_ceil(MAX_GROUP);
    for (x, o) in rows.chunks_exact(d).zip(out.chunks_exact_mut(k)) {
        let mut j = 0;
        for g in 0..groups {
            let size = k / groups + usize::from(g < k % groups);
            macro_rules! group {
                ($n:literal) => {{
                    let mut cs: [&[f32]; $n] = [&[]; $n];
                    for (t, slot) in cs.iter_mut().enumerate() {
                        *slot = c(j + t);
                    }
                    o[j..j + $n].copy_from_slice(&B::block::<$n>(x, cs));
                }};
            }
            match size {
                6 => group!(6),
                5 => group!(5),
                4 => group!(4),
                3 => group!(3),
                2 => group!(2),
                _ => group!(1),
            }
            j += size;
        }
    }
}

#[inline(always)]
fn products_body(rows: &[f32], cents: &[f32], d: usize, out: &mut [f32]) {
    products_with::<Portable>(rows, cents, d, out)
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn products_avx2_body(rows: &[f32], cents: &[f32], d: usize, out: &mut [f32]) {
    products_with::<Avx2>(rows, cents, d, out)
}

#[inline(always)]
fn sq_norm_body(a: &[f32]) -> f32 {
    let full = a.len() - a.len() % LANES;
    let mut acc = [0f32; LANES];
    for c in a[..full].chunks_exact(LANES) {
        for l in 0..LANES {
            acc[l] += c[l] * c[l];
        }
    }
    let mut tail = 0f32;
    for &v in &a[full..] {
        tail += v * v;
    }
    hsum(&acc) + tail
}

#[inline(always)]
fn sq_dist_body(a: &[f32], b: &[f32]) -> f32 {
    let full = a.len() - a.len() % LANES;
    let mut acc = [0f32; LANES];
    for (x, y) in a[..full].chunks_exact(LANES).zip(b[..full].chunks_exact(LANES)) {
        for l in 0..LANES {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    let mut tail = 0f32;
    for (x, y) in a[full..].iter().zip(&b[full..]) {
        let t = x - y;
        tail += t * t;
    }
    hsum(&acc) + tail
}

/// Ask the CPU to start loading a row into the cache (a hint: it never faults and changes no
/// result). Worth it for rows visited out of order, where the hardware prefetcher, which
/// follows sequential streams, cannot guess the next row; on sequential rows it only costs.
#[inline]
pub(crate) fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        for line in row.chunks(16) {
            // SAFETY: prefetching is a hint on a valid address; it reads nothing.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr() as *const i8) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

#[inline(always)]
fn add_body(acc: &mut [f32], row: &[f32]) {
    for (s, &v) in acc.iter_mut().zip(row) {
        *s += v;
    }
}

#[inline(always)]
fn sub_body(acc: &mut [f32], row: &[f32]) {
    for (s, &v) in acc.iter_mut().zip(row) {
        *s -= v;
    }
}

/// Define a kernel's AVX2 copy and the safe entry point that picks one at run time.
macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident, $avx:ident, $body:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        dispatch!($(#[$doc])* $name, $avx, $body, $body, ($($arg: $ty),*) -> $ret);
    };
    ($(#[$doc:meta])* $name:ident, $avx:ident, $avx_body:ident, $body:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx($($arg: $ty),*) -> $ret {
            $avx_body($($arg),*)
        }

        $(#[$doc])*
        pub(crate) fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, as checked on the line above.
                    return unsafe { $avx($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

dispatch!(
    /// `out = rows . cents^T`: `rows` is m x d and `cents` k x d (row-major), `out` m x k.
    products, products_avx2, products_avx2_body, products_body, (rows: &[f32], cents: &[f32], d: usize, out: &mut [f32]) -> ()
);
dispatch!(
    /// Squared Euclidean norm of a row.
    sq_norm, sq_norm_avx2, sq_norm_body, (a: &[f32]) -> f32
);
dispatch!(
    /// Squared Euclidean distance between two rows of equal length.
    sq_dist, sq_dist_avx2, sq_dist_body, (a: &[f32], b: &[f32]) -> f32
);
dispatch!(
    /// `acc += row` (partial cluster sums of one chunk of rows).
    add_row, add_row_avx2, add_body, (acc: &mut [f32], row: &[f32]) -> ()
);
dispatch!(
    /// `acc -= row`.
    sub_row, sub_row_avx2, sub_body, (acc: &mut [f32], row: &[f32]) -> ()
);

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.37 + seed).sin() * 3.0).collect()
    }

    #[test]
    fn products_match_naive_and_do_not_depend_on_grouping() {
        for (d, k) in [(37, 7), (40, 13), (896, 5), (3, 1)] {
            let rows = data(5 * d, 0.1);
            let cents = data(k * d, 2.0);
            let mut out = vec![0f32; 5 * k];
            products(&rows, &cents, d, &mut out);
            let mut portable = vec![0f32; 5 * k];
            products_body(&rows, &cents, d, &mut portable);
            assert_eq!(out, portable, "AVX2 and portable differ (d = {d}, k = {k})");
            for r in 0..5 {
                let mut one = vec![0f32; k];
                products(&rows[r * d..(r + 1) * d], &cents, d, &mut one);
                assert_eq!(&one[..], &out[r * k..(r + 1) * k]);
                for j in 0..k {
                    let mut single = [0f32];
                    products(&rows[r * d..(r + 1) * d], &cents[j * d..(j + 1) * d], d, &mut single);
                    assert_eq!(single[0], out[r * k + j], "grouping changed a product");
                    let naive: f64 = (0..d).map(|t| f64::from(rows[r * d + t]) * f64::from(cents[j * d + t])).sum();
                    assert!((f64::from(out[r * k + j]) - naive).abs() <= 1e-4 * (1.0 + naive.abs()));
                }
            }
        }
    }

    #[test]
    fn portable_and_dispatched_kernels_agree_bitwise() {
        let a = data(101, 0.3);
        let b = data(101, 1.7);
        assert_eq!(sq_norm(&a), sq_norm_body(&a));
        assert_eq!(sq_dist(&a, &b), sq_dist_body(&a, &b));
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        assert!((sq_dist(&a, &b) - naive).abs() <= 1e-4 * naive);
        let mut s1 = a.clone();
        add_row(&mut s1, &b);
        sub_row(&mut s1, &b);
        for (x, y) in s1.iter().zip(&a) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()));
        }
    }
}
