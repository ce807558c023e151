//! The projection of a depth level's positions on its first principal component: what EigenCAM
//! draws. pytorch-grad-cam centres the `positions x channels` matrix per channel and projects it
//! on the first right singular vector of a LAPACK SVD; here the vector comes from the smaller of
//! the two Gram matrices (positions or channels), so the cost follows `min(positions, channels)`.
//! A singular vector's sign is arbitrary; the projection is turned so that its largest magnitude
//! is positive (Chung and Ying's sign correction, pytorch-grad-cam's
//! `get_2d_projection_with_sign_correction`).

use rayon::prelude::*;

/// Squarings before the power series is taken as converged whatever the eigenvalue gap (the
/// second eigenvalue's share shrinks as its ratio to the first raised to 2^squarings).
const MAX_SQUARINGS: usize = 64;

/// `trace(M^2)` of a trace-one Gram matrix within this many machine epsilons per row of 1 means
/// it is rank one to rounding (the sum of its n^2 squares carries about n epsilons of error).
const RANK_ONE_EPSILONS: f64 = 8.0;

/// Power iterations on the Gram matrix itself after the squarings, to remove their rounding.
const POLISH_STEPS: usize = 4;

/// The projection of every position on the first principal component of `values`, laid out
/// `channels x positions` (a level of one image), sign-corrected; zeros where all positions are
/// alike. NaN counts as 0, as pytorch-grad-cam has it; so do infinities, on which its SVD fails.
pub fn principal_projection(values: &[f32], channels: usize, positions: usize) -> Vec<f32> {
    if positions == 0 {
        return Vec::new();
    }
    let centred: Vec<Vec<f64>> = values
        .chunks_exact(positions)
        .take(channels)
        .map(|channel| {
            let finite: Vec<f64> = channel.iter().map(|&v| if v.is_finite() { f64::from(v) } else { 0.0 }).collect();
            let mean = finite.iter().sum::<f64>() / positions.max(1) as f64;
            finite.into_iter().map(|v| v - mean).collect()
        })
        .collect();
    let mut projection = if positions <= channels {
        // Gram of positions: its top eigenvector u gives the projection sqrt(lambda) u.
        let gram = gram(&transpose(&centred, positions));
        let (vector, value) = top_eigenvector(&gram);
        vector.iter().map(|u| u * value.max(0.0).sqrt()).collect()
    } else {
        // Gram of channels: its top eigenvector v is the principal axis; project on it.
        let (axis, _) = top_eigenvector(&gram(&centred));
        (0..positions)
            .map(|p| centred.iter().zip(&axis).map(|(channel, a)| channel[p] * a).sum())
            .collect::<Vec<f64>>()
    };
    let most = projection.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let least = projection.iter().copied().fold(f64::INFINITY, f64::min);
    if least.abs() > most.abs() {
        projection.iter_mut().for_each(|v| *v = -*v);
    }
    projection.into_iter().map(|v| v as f32).collect()
}

/// `rows x n` to `n x rows`.
fn transpose(rows: &[Vec<f64>], n: usize) -> Vec<Vec<f64>> {
    (0..n).map(|j| rows.iter().map(|row| row[j]).collect()).collect()
}

/// The Gram matrix `R R^T` of the rows `R`.
fn gram(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    rows.par_iter()
        .map(|a| rows.iter().map(|b| a.iter().zip(b).map(|(x, y)| x * y).sum()).collect())
        .collect()
}

/// The product of two square matrices.
fn product(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = b.len();
    a.par_iter()
        .map(|row| {
            let mut out = vec![0.0; n];
            for (x, b_row) in row.iter().zip(b) {
                if *x != 0.0 {
                    out.iter_mut().zip(b_row).for_each(|(o, y)| *o += x * y);
                }
            }
            out
        })
        .collect()
}

/// The unit eigenvector of the largest eigenvalue of a symmetric positive semi-definite matrix,
/// and that eigenvalue; a zero vector for a zero matrix. Repeated squaring of the trace-scaled
/// matrix converges to the projector on that eigenvector whatever the gap to the next one.
pub(crate) fn top_eigenvector(matrix: &[Vec<f64>]) -> (Vec<f64>, f64) {
    let n = matrix.len();
    let trace: f64 = (0..n).map(|i| matrix[i][i]).sum();
    if n == 0 || trace.is_nan() || trace <= 0.0 {
        return (vec![0.0; n], 0.0);
    }
    let mut power: Vec<Vec<f64>> = matrix.iter().map(|row| row.iter().map(|v| v / trace).collect()).collect();
    let tolerance = RANK_ONE_EPSILONS * n as f64 * f64::EPSILON;
    let mut previous = 0.0;
    for _ in 0..MAX_SQUARINGS {
        let squares: f64 = power.iter().flatten().map(|v| v * v).sum();
        // Rank one to rounding, or rounding has stopped the progress towards it.
        if 1.0 - squares <= tolerance || squares <= previous {
            break;
        }
        previous = squares;
        power = product(&power, &power);
        let scale: f64 = (0..n).map(|i| power[i][i]).sum();
        power.iter_mut().flatten().for_each(|v| *v /= scale);
    }
    let pivot = (0..n).fold(0, |best, i| if power[i][i] > power[best][best] { i } else { best });
    let mut vector: Vec<f64> = power.iter().map(|row| row[pivot]).collect();
    normalise(&mut vector);
    for _ in 0..POLISH_STEPS {
        vector = matrix.iter().map(|row| row.iter().zip(&vector).map(|(a, v)| a * v).sum()).collect();
        normalise(&mut vector);
    }
    let value = matrix
        .iter()
        .zip(&vector)
        .map(|(row, vi)| vi * row.iter().zip(&vector).map(|(a, v)| a * v).sum::<f64>())
        .sum();
    (vector, value)
}

/// Scales a vector to unit length (a zero vector stays zero).
fn normalise(vector: &mut [f64]) {
    let norm = vector.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Positions on a line through the origin along `direction`, at `offsets`, with a small
    /// orthogonal wobble: the first component is the line.
    fn line(direction: &[f32], offsets: &[f32]) -> Vec<f32> {
        let mut values = vec![0f32; direction.len() * offsets.len()];
        for (c, d) in direction.iter().enumerate() {
            for (p, t) in offsets.iter().enumerate() {
                let wobble = if c == 0 { 0.01 * (p as f32).sin() } else { 0.0 };
                values[c * offsets.len() + p] = d * t + wobble;
            }
        }
        values
    }

    #[test]
    fn projection_follows_the_dominant_direction_on_both_sides() {
        let offsets = [-3.0, -1.0, 0.5, 2.0, 4.0, -2.5];
        let mean = offsets.iter().sum::<f32>() / offsets.len() as f32;
        // 3 channels < 6 positions (channel Gram), then 8 channels > 6 positions (position Gram).
        for direction in [vec![0.6f32, 0.8, 0.0], vec![0.5f32, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0]] {
            let projection = principal_projection(&line(&direction, &offsets), direction.len(), offsets.len());
            let norm = direction.iter().map(|d| d * d).sum::<f32>().sqrt();
            for (p, t) in projection.iter().zip(offsets) {
                assert!((p - (t - mean) * norm).abs() < 0.02, "{p} vs {}", (t - mean) * norm);
            }
        }
    }

    #[test]
    fn sign_makes_the_largest_magnitude_positive() {
        // One outlier far on the negative side: flipped so that it is the positive peak.
        let values = [0.0f32, 0.0, 0.1, 0.0, 0.0, 0.0, -5.0, 0.0];
        let projection = principal_projection(&values, 2, 4);
        let peak = projection.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let trough = projection.iter().copied().fold(f32::INFINITY, f32::min);
        assert!(peak.abs() >= trough.abs(), "{projection:?}");
        assert!((projection[2] - peak).abs() < 1e-6, "{projection:?}");
    }

    #[test]
    fn constant_levels_and_close_eigenvalues() {
        assert_eq!(principal_projection(&[1.0; 12], 3, 4), vec![0.0; 4]);
        // Two nearly equal components: the larger one still wins.
        let values = [1.0f32, -1.0, 0.0, 0.0, 0.0, 0.0, 0.999_99, -0.999_99];
        let projection = principal_projection(&values, 2, 4);
        assert!((projection[0] - 1.0).abs() < 1e-5 && projection[2].abs() < 1e-5, "{projection:?}");
    }
}
