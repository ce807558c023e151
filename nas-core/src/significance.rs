//! Paired significance tests between two maps' scores on the same photos, as SciPy computes
//! them with its defaults: `scipy.stats.wilcoxon` (the signed-rank test) and
//! `scipy.stats.ttest_rel` (the paired t-test), both two-sided.
//!
//! Wilcoxon, as SciPy's `method="auto"`, `zero_method="wilcox"`, `correction=False`: zero
//! differences are dropped from the ranks; with more than 50 pairs, or ties or zeros among more
//! than 13, the normal approximation with the tie correction; otherwise the exact null
//! distribution of the positive rank sum over every sign assignment (SciPy's exact test without
//! ties and zeros, its exhaustive permutation test with them). The statistic reported is the
//! smaller of the positive and negative rank sums.

/// A test's statistic and two-sided p-value (NaN when the test is undefined, e.g. no pairs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The test statistic.
    pub statistic: f64,
    /// The two-sided p-value.
    pub p_value: f64,
}

const UNDEFINED: TestResult = TestResult {
    statistic: f64::NAN,
    p_value: f64::NAN,
};

/// Most pairs for which the Wilcoxon test is exact; SciPy's `method="auto"` threshold.
const EXACT_MAX: usize = 50;
/// Most pairs for which ties or zeros still get an exhaustive permutation test.
const PERMUTATION_MAX: usize = 13;

/// Wilcoxon's signed-rank test of `a - b` (pairs by position).
pub fn wilcoxon(a: &[f64], b: &[f64]) -> TestResult {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len();
    let nonzero: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
    if nonzero.is_empty() {
        // No rank left: SciPy's permutation test finds every sign assignment as extreme (p = 1)
        // up to PERMUTATION_MAX pairs, its normal approximation divides by zero above; a single
        // pair is refused.
        return match n {
            0 | 1 => UNDEFINED,
            2..=PERMUTATION_MAX => TestResult {
                statistic: 0.0,
                p_value: 1.0,
            },
            _ => TestResult {
                statistic: 0.0,
                p_value: f64::NAN,
            },
        };
    }
    let (ranks, tie_sizes) = average_ranks(&nonzero.iter().map(|v| v.abs()).collect::<Vec<_>>());
    let r_plus: f64 = nonzero.iter().zip(&ranks).filter(|(v, _)| **v > 0.0).map(|(_, r)| r).sum();
    let r_minus: f64 = nonzero.iter().zip(&ranks).filter(|(v, _)| **v < 0.0).map(|(_, r)| r).sum();
    // `+ 0.0`: an empty sum is -0.0, which would print as "-0".
    let statistic = r_plus.min(r_minus) + 0.0;
    let ties = tie_sizes.iter().any(|&t| t > 1);
    let zeros = nonzero.len() < n;
    let p_value = if n > EXACT_MAX || ((ties || zeros) && n > PERMUTATION_MAX) {
        let count = nonzero.len() as f64;
        let mean = count * (count + 1.0) / 4.0;
        let tie_correction: f64 = tie_sizes.iter().map(|&t| (t * t * t - t) as f64).sum();
        let se = ((count * (count + 1.0) * (2.0 * count + 1.0) - tie_correction / 2.0) / 24.0).sqrt();
        let z = (r_plus - mean) / se;
        libm::erfc(z.abs() / std::f64::consts::SQRT_2)
    } else {
        // Ranks are whole or half numbers: doubled, they index the null distribution exactly.
        let doubled: Vec<usize> = ranks.iter().map(|r| (2.0 * r).round() as usize).collect();
        let null = sign_flip_distribution(&doubled);
        let observed = (2.0 * r_plus).round() as usize;
        let at_most: f64 = null[..=observed.min(null.len() - 1)].iter().sum();
        let at_least: f64 = null[observed.min(null.len())..].iter().sum();
        (2.0 * at_most.min(at_least)).min(1.0)
    };
    TestResult { statistic, p_value }
}

/// The probability of each sum of `values` chosen each with probability one half.
fn sign_flip_distribution(values: &[usize]) -> Vec<f64> {
    let total: usize = values.iter().sum();
    let mut probability = vec![0.0; total + 1];
    probability[0] = 1.0;
    let mut reach = 0;
    for &v in values {
        for s in (0..=reach).rev() {
            let p = probability[s] * 0.5;
            probability[s] = p;
            probability[s + v] += p;
        }
        reach += v;
    }
    probability
}

/// 1-based average ranks of `values` (equal values share the mean of their ranks) and the size
/// of each group of equal values.
pub fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut sizes = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = rank);
        sizes.push(end - start);
        start = end;
    }
    (ranks, sizes)
}

/// The paired t-test of `a - b`: `t = mean / (sd / sqrt(n))` with the sample standard
/// deviation, against Student's t with `n - 1` degrees of freedom.
pub fn paired_t(a: &[f64], b: &[f64]) -> TestResult {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len() as f64;
    if d.len() < 2 {
        return UNDEFINED;
    }
    let mean = d.iter().sum::<f64>() / n;
    let variance = d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    let statistic = mean / (variance / n).sqrt();
    let df = n - 1.0;
    let p_value = if statistic.is_nan() {
        f64::NAN
    } else if statistic.is_infinite() {
        0.0
    } else {
        regularized_beta(df / (df + statistic * statistic), df / 2.0, 0.5)
    };
    TestResult { statistic, p_value }
}

/// The regularised incomplete beta function `I_x(a, b)`, by its continued fraction (Lentz's
/// method), using the symmetry `I_x(a, b) = 1 - I_{1-x}(b, a)` where that converges faster.
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..=10_000 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}
