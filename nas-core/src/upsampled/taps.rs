//! Bicubic interpolation along one axis, as PyTorch computes it, and the row blend every
//! upsampled quantity is built from.

/// PyTorch's bicubic convolution constant.
const CUBIC_A: f32 = -0.75;

/// The four source taps and weights of every output index along one axis, as PyTorch's
/// `interpolate(mode="bicubic", align_corners=False)` computes them (indices clamped at borders).
#[derive(Debug, Clone)]
pub struct Taps {
    pub(super) index: Vec<[usize; 4]>,
    pub(super) weight: Vec<[f32; 4]>,
    pub(super) input: usize,
}

impl Taps {
    /// Taps mapping `input` samples to `output` samples.
    pub fn bicubic(input: usize, output: usize) -> Taps {
        let scale = input as f32 / output as f32;
        let mut index = Vec::with_capacity(output);
        let mut weight = Vec::with_capacity(output);
        for o in 0..output {
            let src = (o as f32 + 0.5) * scale - 0.5;
            let floor = src.floor();
            let t = src - floor;
            let base = floor as i64;
            let clamp = |i: i64| i.clamp(0, input as i64 - 1) as usize;
            index.push([clamp(base - 1), clamp(base), clamp(base + 1), clamp(base + 2)]);
            let far = |x: f32| ((CUBIC_A * x - 5.0 * CUBIC_A) * x + 8.0 * CUBIC_A) * x - 4.0 * CUBIC_A;
            let near = |x: f32| ((CUBIC_A + 2.0) * x - (CUBIC_A + 3.0)) * x * x + 1.0;
            weight.push([far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]);
        }
        Taps { index, weight, input }
    }

    /// Number of output samples.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no output samples.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Running sums of the rows of [`Taps::matrix`], in f64: `(output + 1) x input`, row `o`
    /// holding the sum of rows `0..o`. The weights a run of outputs `a..b` gives each input are
    /// row `b` minus row `a`.
    pub(super) fn prefix_sums(&self) -> Vec<f64> {
        let mut sums = vec![0f64; (self.len() + 1) * self.input];
        for (o, (idx, w)) in self.index.iter().zip(&self.weight).enumerate() {
            let (done, next) = sums.split_at_mut((o + 1) * self.input);
            let next = &mut next[..self.input];
            next.copy_from_slice(&done[o * self.input..]);
            for (i, wt) in idx.iter().zip(w) {
                next[*i] += f64::from(*wt);
            }
        }
        sums
    }

    /// The interpolation as a dense `output x input` matrix (row-major), for matrix products
    /// on a tensor device.
    pub fn matrix(&self) -> Vec<f32> {
        let mut m = vec![0f32; self.len() * self.input];
        for (o, (idx, w)) in self.index.iter().zip(&self.weight).enumerate() {
            for i in 0..4 {
                m[o * self.input + idx[i]] += w[i];
            }
        }
        m
    }

    /// Row `output` of [`Taps::matrix`]: the weights that produce one output sample.
    pub fn row(&self, output: usize) -> Vec<f32> {
        let mut r = vec![0f32; self.input];
        for i in 0..4 {
            r[self.index[output][i]] += self.weight[output][i];
        }
        r
    }

    /// `R^T R` as a dense `input x input` matrix (row-major).
    pub(super) fn gram(&self) -> Vec<f32> {
        let n = self.input;
        let mut g = vec![0f32; n * n];
        for (idx, w) in self.index.iter().zip(&self.weight) {
            for i in 0..4 {
                for j in 0..4 {
                    g[idx[i] * n + idx[j]] += w[i] * w[j];
                }
            }
        }
        g
    }

    /// `R^T 1`: how much each input sample contributes over all outputs.
    pub(super) fn column_sums(&self) -> Vec<f32> {
        let mut s = vec![0f32; self.input];
        for (idx, w) in self.index.iter().zip(&self.weight) {
            for i in 0..4 {
                s[idx[i]] += w[i];
            }
        }
        s
    }
}

/// Blends a grid row from four source rows and hands each sample to `apply` with its place in
/// `out`: `apply(&mut out[x], sum_i weight[i] * rows[i][x])`. Zipped slices, so it vectorises.
#[inline(always)]
pub(super) fn blend_row(weight: &[f32; 4], rows: &[&[f32]; 4], out: &mut [f32], apply: impl Fn(&mut f32, f32)) {
    let n = out.len();
    let (r0, r1, r2, r3) = (&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n]);
    for ((((o, a), b), c), d) in out.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
        apply(o, weight[0] * a + weight[1] * b + weight[2] * c + weight[3] * d);
    }
}
