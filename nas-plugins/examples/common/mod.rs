//! What the benchmarks share: a backbone input and how they summarise timings.
#![allow(dead_code)]

use nas_core::burn::tensor::TensorData;
use nas_core::{Device, NasTensor};
use std::time::{Duration, Instant};

/// A fixed pseudo-random normalised batch `(batch, 3, side, side)` with values in [-2, 2]
/// (xorshift, so every run and every benchmark times the same input).
pub fn input(batch: usize, side: usize, device: &Device) -> NasTensor<4> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let values: Vec<f32> = (0..batch * 3 * side * side)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0
        })
        .collect();
    NasTensor::<4>::from_data(TensorData::new(values, [batch, 3, side, side]), device)
}

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The medians of `runs` timings of `first` and `second`, run alternately after one warm-up run
/// of each, in milliseconds.
pub fn alternate<E>(
    runs: usize,
    mut first: impl FnMut() -> Result<(), E>,
    mut second: impl FnMut() -> Result<(), E>,
) -> Result<(f64, f64), E> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let start = Instant::now();
        first()?;
        let t_first = start.elapsed();
        let start = Instant::now();
        second()?;
        let t_second = start.elapsed();
        if run > 0 {
            a.push(t_first);
            b.push(t_second);
        }
    }
    Ok((ms(median(a)), ms(median(b))))
}
