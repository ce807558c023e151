//! KPCA-CAM (Karmani et al. 2024), as pytorch-grad-cam's `KPCA_CAM`: a depth level's positions
//! projected on the first component of a kernel PCA of their channel-centred activations
//! (scikit-learn's `KernelPCA(n_components=1)`, sigmoid kernel by default), then rectified,
//! scaled to `[0, 1]` and resized as the other CAMs. Class-agnostic and forward-only. The
//! component's sign is scikit-learn's: its largest magnitude positive.

use super::cam::{cam_levels, level_cams};
use super::principal_component::top_eigenvector;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The kernels scikit-learn's `KernelPCA` offers that KPCA-CAM may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// `tanh(gamma <x, y> + 1)`, pytorch-grad-cam's default.
    Sigmoid,
    /// `exp(-gamma |x - y|^2)`.
    Rbf,
    /// `<x, y>`: plain PCA, EigenCAM's projection up to its sign rule.
    Linear,
}

/// The `kpca-cam` saliency method.
pub struct KpcaCam {
    levels: Vec<usize>,
    kernel: Kernel,
    /// `None`: scikit-learn's default, one over the number of channels.
    gamma: Option<f64>,
}

/// Parameters of `kpca-cam`.
pub const KPCA_CAM_PARAMS: &[ParamSpec] = &[
    super::cam::LEVEL_PARAM,
    ParamSpec {
        name: "kernel",
        kind: ParamKind::Str,
        default: "\"sigmoid\"",
        doc: "kernel of the PCA: sigmoid (tanh(gamma x.y + 1), pytorch-grad-cam's default), rbf or linear",
    },
    ParamSpec {
        name: "gamma",
        kind: ParamKind::Float,
        default: "1 / channels",
        doc: "the kernel's gamma (scikit-learn's default: one over the level's channel count)",
    },
];

/// The kernel PCA projection of one image's level `(channels, positions)` on its first
/// component: `sqrt(lambda) u` for the top eigenpair of the centred kernel matrix of the
/// channel-centred positions, `u`'s largest magnitude positive; zeros where there is none.
pub fn kernel_projection(values: &[f32], channels: usize, positions: usize, kernel: Kernel, gamma: Option<f64>) -> Vec<f32> {
    if positions == 0 || channels == 0 {
        return vec![0.0; positions];
    }
    let rows: Vec<Vec<f64>> = (0..positions)
        .map(|p| {
            (0..channels)
                .map(|c| f64::from(values[c * positions + p]))
                .map(|v| if v.is_finite() { v } else { 0.0 })
                .collect()
        })
        .collect();
    let means: Vec<f64> = (0..channels)
        .map(|c| rows.iter().map(|r| r[c]).sum::<f64>() / positions as f64)
        .collect();
    let centred: Vec<Vec<f64>> = rows
        .into_iter()
        .map(|r| r.iter().zip(&means).map(|(v, m)| v - m).collect())
        .collect();
    let gamma = gamma.unwrap_or(1.0 / channels as f64);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let entry = |a: &[f64], b: &[f64]| match kernel {
        Kernel::Sigmoid => (gamma * dot(a, b) + 1.0).tanh(),
        Kernel::Rbf => (-gamma * a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>()).exp(),
        Kernel::Linear => dot(a, b),
    };
    let matrix: Vec<Vec<f64>> = centred.iter().map(|a| centred.iter().map(|b| entry(a, b)).collect()).collect();
    // scikit-learn's KernelCenterer: remove the row and column means, add the overall mean.
    let n = positions as f64;
    let row_means: Vec<f64> = matrix.iter().map(|r| r.iter().sum::<f64>() / n).collect();
    let overall = row_means.iter().sum::<f64>() / n;
    let mut centred_kernel: Vec<Vec<f64>> = matrix
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.iter()
                .enumerate()
                .map(|(j, k)| k - row_means[i] - row_means[j] + overall)
                .collect()
        })
        .collect();
    // The largest (not largest in magnitude) eigenvalue, as scikit-learn takes it: shifted by a
    // bound on the spectral radius, the matrix is positive semi-definite with the same vectors.
    let shift = centred_kernel
        .iter()
        .map(|r| r.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    centred_kernel.iter_mut().enumerate().for_each(|(i, r)| r[i] += shift);
    let (mut vector, shifted_value) = top_eigenvector(&centred_kernel);
    let value = shifted_value - shift;
    let pivot = (0..vector.len()).fold(0, |best, i| if vector[i].abs() > vector[best].abs() { i } else { best });
    if vector.get(pivot).is_some_and(|v| *v < 0.0) {
        vector.iter_mut().for_each(|v| *v = -*v);
    }
    let scale = value.max(0.0).sqrt();
    vector.into_iter().map(|u| (u * scale) as f32).collect()
}

impl Saliency for KpcaCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        level_cams("KPCA-CAM", backbone, input, &self.levels, |level, values, channels, positions| {
            if positions > MAX_POSITIONS {
                return Err(NasError::InvalidInput(format!(
                    "KPCA-CAM: level {level} has {positions} positions; its kernel matrix grows as their square and its eigenproblem as their cube, so at most {MAX_POSITIONS} are taken (use a deeper level)"
                )));
            }
            Ok(kernel_projection(values, channels, positions, self.kernel, self.gamma))
        })
    }
}

/// The most positions a level may have (28 x 28 plus margin): beyond, the eigenproblem takes
/// minutes.
const MAX_POSITIONS: usize = 1024;

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    let kernel = match params.choice("kernel", "sigmoid", &["sigmoid", "rbf", "linear"])?.as_str() {
        "rbf" => Kernel::Rbf,
        "linear" => Kernel::Linear,
        _ => Kernel::Sigmoid,
    };
    let gamma = if params.contains("gamma") {
        Some(params.float("gamma", 0.0, 0.0, f64::MAX)?)
    } else {
        None
    };
    Ok(Box::new(KpcaCam {
        levels: cam_levels(params)?,
        kernel,
        gamma,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "kpca-cam",
        summary: "KPCA-CAM: a depth level's first kernel principal component, class-agnostic (pytorch-grad-cam's KPCA_CAM, sigmoid kernel), scaled to [0, 1]",
        params: KPCA_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
