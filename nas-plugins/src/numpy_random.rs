//! NumPy's legacy random numbers (`np.random.seed(s)` or `RandomState(s)`, then `uniform`,
//! `normal`, `randint` or `permutation` / `choice(n, k, replace=False)`): the MT19937
//! generator seeded as NumPy seeds it from one integer, its 53-bit doubles, its polar-method
//! normal deviates (which come in pairs, the second kept) and its Fisher-Yates shuffle. Quantus draws its
//! perturbation noise from that global state, so a metric that follows it draws the same noise
//! for the same seed, and its scores can be checked against Quantus's exactly; LIME draws its
//! samples from a `RandomState` the same way.

use nas_core::mersenne_twister::MersenneTwister;

/// An MT19937 generator in NumPy's `RandomState` form.
pub struct NumpyRandom {
    engine: MersenneTwister,
    /// The second deviate of the last pair, not yet handed out.
    spare_gauss: Option<f64>,
}

impl NumpyRandom {
    /// The generator after `np.random.seed(seed)`.
    pub fn new(seed: u32) -> NumpyRandom {
        NumpyRandom {
            engine: MersenneTwister::from_seed(seed),
            spare_gauss: None,
        }
    }

    /// The next 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        self.engine.next_u32()
    }

    /// An integer in `0..=max`, as `randint(0, max + 1)` draws each value: the next output masked
    /// to the bits `max` needs, drawn again while above `max` (nothing drawn for `max` 0).
    pub fn bounded(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let value = self.next_u32() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// A double in [0, 1) from 53 random bits, as `np.random.random_sample()`.
    pub fn random_sample(&mut self) -> f64 {
        self.engine.next_f64()
    }

    /// A double in [low, high), as `np.random.uniform(low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random_sample()
    }

    /// A standard normal deviate, as NumPy's legacy `gauss`: Marsaglia's polar method on two
    /// uniform doubles, one deviate returned and the other kept for the next call.
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(spare) = self.spare_gauss.take() {
            return spare;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.spare_gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// A normal deviate of mean `loc` and standard deviation `scale`, as `np.random.normal`.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// A uniform integer in `[0, max]`, as NumPy's `random_interval`: 32-bit draws masked to
    /// the smallest power of two above `max`, redrawn until they fall in range.
    fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for shift in [1, 2, 4, 8, 16] {
            mask |= mask >> shift;
        }
        loop {
            let value = self.next_u32() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// `0..n` shuffled, as `np.random.permutation(n)`; its first `k` values are
    /// `np.random.choice(n, k, replace=False)`. `n` must fit in 32 bits (NumPy switches to
    /// 64-bit draws above).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut values: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(i as u32) as usize;
            values.swap(i, j);
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::NumpyRandom;

    #[test]
    fn permutations_are_numpys() {
        // np.random.seed(3); np.random.permutation(20)[:5]
        assert_eq!(NumpyRandom::new(3).permutation(20)[..5], [14, 2, 1, 17, 4]);
        // np.random.seed(3); np.random.choice(150528, 6, replace=False)
        assert_eq!(
            NumpyRandom::new(3).permutation(150_528)[..6],
            [2731, 118_533, 53770, 105_075, 21508, 144_168]
        );
    }
}
