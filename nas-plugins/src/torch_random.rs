//! PyTorch's CPU random numbers after `torch.manual_seed(s)`: `randperm`, `randn`, exponential
//! deviates and one draw of a `Categorical` (`torch.multinomial`, one sample). torch's default CPU
//! generator is the same MT19937 stream as NumPy's `RandomState(s)`; on it, `randperm` swaps each
//! position `i` with position `i + u % (n - i)` for the next 32-bit output `u`; doubles take the
//! low 53 bits of two outputs (the first high), floats the low 24 bits of one; an exponential
//! deviate is `-log1p(-u)`; `randn` of fewer than 16 values draws Box-Muller pairs of doubles and
//! keeps the second of each pair for the next value, and of 16 or more fills uniform floats and
//! transforms them 16 at a time (the last 16 redrawn when the count is not a multiple of 16);
//! a one-sample multinomial is the argmax of the probabilities over exponential deviates.
//! Captum draws `ShapleyValueSampling`'s feature orders and `KernelShap`'s coalitions this way,
//! so a seed gives its draws (normal deviates to rounding: only their order is used).

use crate::numpy_random::NumpyRandom;

/// Values `randn` transforms at once when it has at least that many.
const NORMAL_BLOCK: usize = 16;

/// torch's default CPU generator.
pub struct TorchRandom {
    engine: NumpyRandom,
    /// The second normal deviate of the last scalar Box-Muller pair, not yet handed out.
    next_normal: Option<f64>,
}

impl TorchRandom {
    /// The generator after `torch.manual_seed(seed)`.
    pub fn new(seed: u32) -> TorchRandom {
        TorchRandom {
            engine: NumpyRandom::new(seed),
            next_normal: None,
        }
    }

    /// A double in `[0, 1)` from the next two outputs.
    fn uniform_double(&mut self) -> f64 {
        let high = u64::from(self.engine.next_u32());
        let low = u64::from(self.engine.next_u32());
        ((high << 32 | low) & ((1 << 53) - 1)) as f64 / (1u64 << 53) as f64
    }

    /// A float in `[0, 1)` from the next output.
    fn uniform_float(&mut self) -> f64 {
        f64::from(self.engine.next_u32() & ((1 << 24) - 1)) / f64::from(1u32 << 24)
    }

    /// `torch.randperm(n)`.
    pub fn randperm(&mut self, n: usize) -> Vec<usize> {
        let mut values: Vec<usize> = (0..n).collect();
        for i in 0..n.saturating_sub(1) {
            let offset = self.engine.next_u32() as usize % (n - i);
            values.swap(i, i + offset);
        }
        values
    }

    /// `torch.empty(n).exponential_(1)`.
    pub fn exponential(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| -(-self.uniform_double()).ln_1p() as f32).collect()
    }

    /// `torch.randn(n)` (float32), in double precision.
    pub fn randn(&mut self, n: usize) -> Vec<f64> {
        if n < NORMAL_BLOCK {
            return (0..n).map(|_| self.scalar_normal()).collect();
        }
        let mut values: Vec<f64> = (0..n).map(|_| self.uniform_float()).collect();
        for block in values.chunks_exact_mut(NORMAL_BLOCK) {
            box_muller_block(block);
        }
        if !n.is_multiple_of(NORMAL_BLOCK) {
            let last = &mut values[n - NORMAL_BLOCK..];
            last.iter_mut().for_each(|v| *v = self.uniform_float());
            box_muller_block(last);
        }
        values
    }

    /// One standard normal double, as torch's `normal_distribution<double>` draws it.
    fn scalar_normal(&mut self) -> f64 {
        if let Some(value) = self.next_normal.take() {
            return value;
        }
        let angle = self.uniform_double();
        let radius = (-2.0 * (-self.uniform_double()).ln_1p()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * angle;
        self.next_normal = Some(radius * theta.sin());
        radius * theta.cos()
    }

    /// `Categorical(probs).sample()`: an index drawn with probability proportional to `probs`.
    pub fn categorical(&mut self, probs: &[f32]) -> usize {
        let total: f32 = probs.iter().sum();
        let deviates = self.exponential(probs.len());
        let mut best = (0, f32::NEG_INFINITY);
        for (i, (p, q)) in probs.iter().zip(&deviates).enumerate() {
            let key = p / total / q;
            if key > best.1 {
                best = (i, key);
            }
        }
        best.0
    }
}

/// Box-Muller on 16 uniforms: pairs `(j, j + 8)` become two normal deviates.
fn box_muller_block(values: &mut [f64]) {
    let half = NORMAL_BLOCK / 2;
    for j in 0..half {
        let radius = (-2.0 * (1.0 - values[j]).ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * values[j + half];
        values[j] = radius * theta.cos();
        values[j + half] = radius * theta.sin();
    }
}

#[cfg(test)]
mod tests {
    use super::TorchRandom;

    #[test]
    fn permutations_are_torchs() {
        // torch.manual_seed(0); torch.randperm(5); torch.randperm(7)
        let mut generator = TorchRandom::new(0);
        assert_eq!(generator.randperm(5), [4, 0, 1, 3, 2]);
        assert_eq!(generator.randperm(7), [1, 4, 0, 6, 5, 3, 2]);
        // torch.manual_seed(42); torch.randperm(100)[:8]
        assert_eq!(TorchRandom::new(42).randperm(100)[..8], [42, 96, 62, 98, 46, 95, 60, 24]);
        assert!(TorchRandom::new(0).randperm(0).is_empty());
    }

    fn assert_close(ours: &[f64], torch: &[f64]) {
        assert_eq!(ours.len(), torch.len());
        for (a, b) in ours.iter().zip(torch) {
            assert!((a - b).abs() < 1e-6, "{ours:?} vs {torch:?}");
        }
    }

    #[test]
    fn deviates_are_torchs() {
        // torch.manual_seed(0); torch.empty(3).exponential_(1)
        let exponential: Vec<f64> = TorchRandom::new(0).exponential(3).iter().map(|&v| f64::from(v)).collect();
        assert_close(&exponential, &[3.508326292037964, 1.2303847074508667, 0.615044116973877]);
        // torch.manual_seed(3); torch.randn(5); torch.randn(3): the second call starts with the
        // deviate the first kept back.
        let mut generator = TorchRandom::new(3);
        assert_close(
            &generator.randn(5),
            &[
                0.8032760620117188,
                0.17483338713645935,
                0.08897809684276581,
                -0.6137180328369141,
                0.04618244990706444,
            ],
        );
        assert_close(&generator.randn(3), &[-1.3682591915130615, 0.3374950885772705, 1.0111159086227417]);
        // torch.manual_seed(3); torch.randn(20): a block of 16, then the last 16 redrawn.
        let twenty = TorchRandom::new(3).randn(20);
        assert_close(&twenty[..3], &[-0.07664429396390915, 0.35988152027130127, -0.7820168137550354]);
        assert_close(
            &twenty[14..],
            &[
                2.436397075653076,
                -0.1468081772327423,
                0.4851140081882477,
                0.2052343785762787,
                0.33842819929122925,
                1.35275399684906,
            ],
        );
    }

    #[test]
    fn categorical_draws_are_torchs() {
        // KernelShap's coalition sizes for 6 features: torch.manual_seed(1);
        // d = Categorical(p); [d.sample() for _ in range(12)]
        let probs = [0.0, 1.0, 0.625, 0.555_555_6, 0.625, 1.0];
        let mut generator = TorchRandom::new(1);
        let draws: Vec<usize> = (0..12).map(|_| generator.categorical(&probs)).collect();
        assert_eq!(draws, [5, 5, 2, 1, 1, 5, 5, 5, 1, 5, 2, 4]);
    }
}
