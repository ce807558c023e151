//! torchvision's Inception v3 (Szegedy et al. 2016), loaded from its state dict: a stem of
//! unpadded 3x3 convolutions and two max pools, three Inception-A modules (`Mixed_5b`-`5d`), a
//! grid reduction (`Mixed_6a`), four Inception-C modules with factorised 1x7 and 7x1
//! convolutions (`Mixed_6b`-`6e`), a second reduction (`Mixed_7a`), two Inception-E modules
//! whose 1x3 and 3x1 convolutions run side by side (`Mixed_7b`, `7c`), global average pooling
//! and a linear head. Every convolution is torchvision's `BasicConv2d` (no bias, BatchNorm with
//! epsilon 1e-3, ReLU); the pooled branches average 3x3 windows counting the zero padding, as
//! `F.avg_pool2d` does by default.
//!
//! The square convolutions run on `nas-conv`'s prepared kernels on the CPU; the 1xN and Nx1
//! ones, which those kernels do not cover, as one matrix product of their gathered taps per
//! image (burn's `conv2d` where gradients are recorded, and off the CPU). The file's auxiliary classifier
//! (`AuxLogits`) serves training only and is not loaded. Like GoogLeNet's, torchvision's weights
//! expect `transform_input=True`, inputs normalised with mean and standard deviation 0.5, which
//! nas gives them directly. They were trained at 299x299 (`nas weights`: resize 342, crop 299);
//! inputs need at least 75 pixels a side.
//!
//! Depth levels: the stem's two max pools (strides about 4 and 8), and `Mixed_5d`, `Mixed_6e`,
//! `Mixed_7c` (strides about 8, 16, 32).

use super::layers::{avg_pool, fold_batch_norm, global_average, host_values, max_pool, ConvBn, ConvGeometry, Linear};
use nas_conv::matmul::{multiply, Layout};
use nas_core::burn::tensor::activation::relu;
use nas_core::burn::tensor::module::conv2d;
use nas_core::burn::tensor::ops::PaddedConvOptions;
use nas_core::burn::tensor::TensorData;
use nas_core::device::runs_on_host;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// BatchNorm epsilon of torchvision's `BasicConv2d`.
const BN_EPS: f32 = 1e-3;
/// Mean and standard deviation of the inputs torchvision's weights expect (`transform_input`).
const HALF: [f32; 3] = [0.5; 3];
/// Smallest input side: the unpadded convolutions and pools leave nothing of smaller inputs.
const MIN_SIDE: usize = 75;

/// One `BasicConv2d`'s shape: output channels, kernel (rows, columns), stride, and padding
/// (rows, columns).
#[derive(Clone, Copy)]
struct Unit {
    key: &'static str,
    outputs: usize,
    kernel: [usize; 2],
    stride: usize,
    padding: [usize; 2],
}

/// A square convolution with stride 1, padded to keep the size.
const fn same(key: &'static str, outputs: usize, kernel: usize) -> Unit {
    Unit {
        key,
        outputs,
        kernel: [kernel, kernel],
        stride: 1,
        padding: [kernel / 2, kernel / 2],
    }
}

/// A 3x3 convolution with stride 2 and no padding (the grid reductions).
const fn reduce(key: &'static str, outputs: usize) -> Unit {
    Unit {
        key,
        outputs,
        kernel: [3, 3],
        stride: 2,
        padding: [0, 0],
    }
}

/// A 1xN convolution, padded to keep the size.
const fn row(key: &'static str, outputs: usize, n: usize) -> Unit {
    Unit {
        key,
        outputs,
        kernel: [1, n],
        stride: 1,
        padding: [0, n / 2],
    }
}

/// An Nx1 convolution, padded to keep the size.
const fn column(key: &'static str, outputs: usize, n: usize) -> Unit {
    Unit {
        key,
        outputs,
        kernel: [n, 1],
        stride: 1,
        padding: [n / 2, 0],
    }
}

/// A loaded `BasicConv2d`, BatchNorm folded in.
enum Conv {
    /// Square kernels: `nas-conv`'s prepared kernels on the CPU.
    Square(Box<ConvBn>),
    /// 1xN and Nx1 kernels.
    Strip(Box<StripConv>),
}

impl Conv {
    fn load(sd: &mut StateDict, prefix: &str, inputs: usize, unit: Unit) -> Result<Conv> {
        let conv = format!("{prefix}{}.conv", unit.key);
        let bn = format!("{prefix}{}.bn", unit.key);
        let [rows, cols] = unit.kernel;
        if rows == cols {
            let geometry = ConvGeometry::symmetric(inputs, unit.outputs, rows, unit.stride, unit.padding[0]);
            return Ok(Conv::Square(Box::new(ConvBn::load(sd, &conv, &bn, BN_EPS, geometry)?)));
        }
        let dims = [unit.outputs, inputs, rows, cols];
        let mut weight = sd.take_values(&format!("{conv}.weight"), &dims)?;
        let bias = fold_batch_norm(sd, &bn, BN_EPS, &mut weight, &vec![0.0; unit.outputs])?;
        Ok(Conv::Strip(Box::new(StripConv {
            weight: NasTensor::from_data(TensorData::new(weight.clone(), dims), sd.device()),
            bias: NasTensor::from_data(TensorData::new(bias.clone(), [unit.outputs]), sd.device()),
            host: (weight, bias),
            dims,
            padding: unit.padding,
        })))
    }

    /// The convolution, BatchNorm and ReLU.
    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        match self {
            Conv::Square(conv) => conv.forward_relu(x),
            Conv::Strip(conv) => conv.forward_relu(x),
        }
    }
}

/// A 1xN or Nx1 convolution with stride 1 that keeps the map's size, BatchNorm folded in.
struct StripConv {
    weight: NasTensor<4>,
    bias: NasTensor<1>,
    /// The same weight `(out, in * n)` and bias on the host.
    host: (Vec<f32>, Vec<f32>),
    /// `(out, in, rows, columns)`, one of the last two 1.
    dims: [usize; 4],
    /// Padding (rows, columns): `n / 2` along the kernel's long side.
    padding: [usize; 2],
}

impl StripConv {
    /// The convolution and a ReLU: on the host outside differentiable scopes (the strip's
    /// taps gathered into columns, one matrix product per image), burn's `conv2d` elsewhere.
    fn forward_relu(&self, x: NasTensor<4>) -> NasTensor<4> {
        if runs_on_host(&x) {
            if let Some(y) = self.host_forward(&x) {
                return y;
            }
        }
        let options = PaddedConvOptions::asymmetric([1, 1], self.padding, self.padding, [1, 1], 1);
        relu(conv2d(x, self.weight.clone(), Some(self.bias.clone()), options))
    }

    fn host_forward(&self, x: &NasTensor<4>) -> Option<NasTensor<4>> {
        let [batch, channels, height, width] = x.dims();
        let [outputs, inputs, rows, cols] = self.dims;
        if channels != inputs {
            return None;
        }
        let values = host_values(x.clone())?;
        let (taps, plane) = (rows.max(cols), height * width);
        let (weight, bias) = &self.host;
        let mut out = vec![0f32; batch * outputs * plane];
        let mut columns = vec![0f32; inputs * taps * plane];
        for (image, out) in values.chunks_exact(inputs * plane).zip(out.chunks_exact_mut(outputs * plane)) {
            for (c, channel) in image.chunks_exact(plane).enumerate() {
                for tap in 0..taps {
                    let column = &mut columns[(c * taps + tap) * plane..][..plane];
                    shifted(channel, column, [height, width], rows > 1, tap, self.padding);
                }
            }
            let threads = rayon::current_num_threads();
            let (weights_at, columns_at) = (Layout::dense(outputs, inputs * taps), Layout::dense(inputs * taps, plane));
            multiply(
                out,
                Layout::dense(outputs, plane),
                weight,
                weights_at,
                &columns,
                columns_at,
                threads,
            );
            for (row, b) in out.chunks_exact_mut(plane).zip(bias) {
                for v in row {
                    *v = (*v + b).max(0.0);
                }
            }
        }
        Some(NasTensor::from_data(
            TensorData::new(out, [batch, outputs, height, width]),
            &x.device(),
        ))
    }
}

/// Writes into `column` (`height x width`) the values `channel` holds `tap` steps along a strip
/// kernel (`vertical`: Nx1, else 1xN) away, minus the padding; zero where that falls outside.
fn shifted(channel: &[f32], column: &mut [f32], [height, width]: [usize; 2], vertical: bool, tap: usize, [pad_rows, pad_cols]: [usize; 2]) {
    let (dy, dx) = if vertical {
        (tap as isize - pad_rows as isize, 0)
    } else {
        (0, tap as isize - pad_cols as isize)
    };
    for y in 0..height {
        let target = &mut column[y * width..][..width];
        let source_y = y as isize + dy;
        if source_y < 0 || source_y >= height as isize {
            target.fill(0.0);
            continue;
        }
        let source = &channel[source_y as usize * width..][..width];
        for (x, t) in target.iter_mut().enumerate() {
            let source_x = x as isize + dx;
            *t = if source_x < 0 || source_x >= width as isize {
                0.0
            } else {
                source[source_x as usize]
            };
        }
    }
}

/// What a branch does to the module's input before its convolutions.
#[derive(Clone, Copy, PartialEq)]
enum Pool {
    None,
    /// 3x3 average, stride 1, padding 1 counted in the average (`F.avg_pool2d`'s default).
    Average,
    /// 3x3 maximum, stride 2 (the grid reductions' pooled branch, which has no convolution).
    Max,
}

/// A branch: a pool, a chain of convolutions, and optionally two convolutions applied side by
/// side to the chain's output and concatenated (Inception-E).
struct BranchSpec {
    pool: Pool,
    chain: &'static [Unit],
    split: Option<[Unit; 2]>,
}

/// A branch of convolutions only.
const fn chain(units: &'static [Unit]) -> BranchSpec {
    pooled(Pool::None, units)
}

/// A branch that pools first.
const fn pooled(pool: Pool, units: &'static [Unit]) -> BranchSpec {
    BranchSpec {
        pool,
        chain: units,
        split: None,
    }
}

/// The branches of one module type.
type ModuleSpec = &'static [BranchSpec];

/// Inception-A with `pool_features` channels out of its pooled branch.
macro_rules! inception_a {
    ($pool_features:expr) => {
        &[
            chain(&[same("branch1x1", 64, 1)]),
            chain(&[same("branch5x5_1", 48, 1), same("branch5x5_2", 64, 5)]),
            chain(&[
                same("branch3x3dbl_1", 64, 1),
                same("branch3x3dbl_2", 96, 3),
                same("branch3x3dbl_3", 96, 3),
            ]),
            pooled(Pool::Average, &[same("branch_pool", $pool_features, 1)]),
        ]
    };
}

/// Inception-C with `c7` channels inside its factorised 7x7 branches.
macro_rules! inception_c {
    ($c7:expr) => {
        &[
            chain(&[same("branch1x1", 192, 1)]),
            chain(&[
                same("branch7x7_1", $c7, 1),
                row("branch7x7_2", $c7, 7),
                column("branch7x7_3", 192, 7),
            ]),
            chain(&[
                same("branch7x7dbl_1", $c7, 1),
                column("branch7x7dbl_2", $c7, 7),
                row("branch7x7dbl_3", $c7, 7),
                column("branch7x7dbl_4", $c7, 7),
                row("branch7x7dbl_5", 192, 7),
            ]),
            pooled(Pool::Average, &[same("branch_pool", 192, 1)]),
        ]
    };
}

const INCEPTION_B: ModuleSpec = &[
    chain(&[reduce("branch3x3", 384)]),
    chain(&[
        same("branch3x3dbl_1", 64, 1),
        same("branch3x3dbl_2", 96, 3),
        reduce("branch3x3dbl_3", 96),
    ]),
    pooled(Pool::Max, &[]),
];

const INCEPTION_D: ModuleSpec = &[
    chain(&[same("branch3x3_1", 192, 1), reduce("branch3x3_2", 320)]),
    chain(&[
        same("branch7x7x3_1", 192, 1),
        row("branch7x7x3_2", 192, 7),
        column("branch7x7x3_3", 192, 7),
        reduce("branch7x7x3_4", 192),
    ]),
    pooled(Pool::Max, &[]),
];

const INCEPTION_E: ModuleSpec = &[
    chain(&[same("branch1x1", 320, 1)]),
    BranchSpec {
        pool: Pool::None,
        chain: &[same("branch3x3_1", 384, 1)],
        split: Some([row("branch3x3_2a", 384, 3), column("branch3x3_2b", 384, 3)]),
    },
    BranchSpec {
        pool: Pool::None,
        chain: &[same("branch3x3dbl_1", 448, 1), same("branch3x3dbl_2", 384, 3)],
        split: Some([row("branch3x3dbl_3a", 384, 3), column("branch3x3dbl_3b", 384, 3)]),
    },
    pooled(Pool::Average, &[same("branch_pool", 192, 1)]),
];

/// torchvision's modules in order: name and branches.
const MODULES: [(&str, ModuleSpec); 11] = [
    ("Mixed_5b", inception_a!(32)),
    ("Mixed_5c", inception_a!(64)),
    ("Mixed_5d", inception_a!(64)),
    ("Mixed_6a", INCEPTION_B),
    ("Mixed_6b", inception_c!(128)),
    ("Mixed_6c", inception_c!(160)),
    ("Mixed_6d", inception_c!(160)),
    ("Mixed_6e", inception_c!(192)),
    ("Mixed_7a", INCEPTION_D),
    ("Mixed_7b", INCEPTION_E),
    ("Mixed_7c", INCEPTION_E),
];

/// The modules whose outputs are depth levels 2, 3 and 4.
const LEVEL_MODULES: [&str; 3] = ["Mixed_5d", "Mixed_6e", "Mixed_7c"];

/// A loaded branch.
struct Branch {
    pool: Pool,
    chain: Vec<Conv>,
    split: Option<[Conv; 2]>,
}

impl Branch {
    /// Loads `spec` for `inputs` channels; returns it with its output channels.
    fn load(sd: &mut StateDict, prefix: &str, inputs: usize, spec: &BranchSpec) -> Result<(Branch, usize)> {
        let mut channels = inputs;
        let mut chain = Vec::with_capacity(spec.chain.len());
        for unit in spec.chain {
            chain.push(Conv::load(sd, prefix, channels, *unit)?);
            channels = unit.outputs;
        }
        let split = match spec.split {
            Some([a, b]) => {
                let loaded = [Conv::load(sd, prefix, channels, a)?, Conv::load(sd, prefix, channels, b)?];
                channels = a.outputs + b.outputs;
                Some(loaded)
            }
            None => None,
        };
        Ok((
            Branch {
                pool: spec.pool,
                chain,
                split,
            },
            channels,
        ))
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let mut h = match self.pool {
            Pool::None => x,
            Pool::Average => avg_pool(x, 3, 1, 1),
            Pool::Max => max_pool(x, 3, 2, 0),
        };
        for conv in &self.chain {
            h = conv.forward(h);
        }
        match &self.split {
            Some([a, b]) => NasTensor::cat(vec![a.forward(h.clone()), b.forward(h)], 1),
            None => h,
        }
    }
}

/// torchvision's Inception v3 in inference mode.
pub struct InceptionV3 {
    info: BackboneInfo,
    device: Device,
    stem: [Conv; 5],
    /// Each module's branches, and whether its output is a depth level.
    modules: Vec<(Vec<Branch>, bool)>,
    fc: Linear,
}

impl InceptionV3 {
    fn load(sd: &mut StateDict, num_classes: usize) -> Result<InceptionV3> {
        let stem = [
            Conv::load(sd, "", 3, reduce("Conv2d_1a_3x3", 32))?,
            Conv::load(sd, "", 32, same("Conv2d_2a_3x3", 32, 3).unpadded())?,
            Conv::load(sd, "", 32, same("Conv2d_2b_3x3", 64, 3))?,
            Conv::load(sd, "", 64, same("Conv2d_3b_1x1", 80, 1))?,
            Conv::load(sd, "", 80, same("Conv2d_4a_3x3", 192, 3).unpadded())?,
        ];
        let mut modules = Vec::with_capacity(MODULES.len());
        let mut channels = 192;
        for (name, spec) in MODULES {
            let mut branches = Vec::with_capacity(spec.len());
            let mut outputs = 0;
            for branch in spec {
                let (loaded, width) = Branch::load(sd, &format!("{name}."), channels, branch)?;
                branches.push(loaded);
                // A pooled branch without convolutions passes its input's channels on.
                outputs += width;
            }
            channels = outputs;
            modules.push((branches, LEVEL_MODULES.contains(&name)));
        }
        sd.drop_module("AuxLogits");
        Ok(InceptionV3 {
            info: BackboneInfo {
                name: "inception_v3".into(),
                mean: HALF,
                std: HALF,
                level_channels: [64, 192, 288, 768, 2048],
                level_strides: [4, 8, 8, 16, 32],
                min_input_side: MIN_SIDE,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            modules,
            fc: Linear::load(sd, "fc", channels, num_classes)?,
        })
    }
}

impl Unit {
    /// The same convolution without padding (the stem's valid 3x3 convolutions).
    const fn unpadded(self) -> Unit {
        Unit { padding: [0, 0], ..self }
    }
}

impl Backbone for InceptionV3 {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let [c1a, c2a, c2b, c3b, c4a] = &self.stem;
        let h = c2b.forward(c2a.forward(c1a.forward(input)));
        let h = hook.level(0, max_pool(h, 3, 2, 0));
        let mut h = hook.level(1, max_pool(c4a.forward(c3b.forward(h)), 3, 2, 0));
        let mut level = 2;
        for (branches, is_level) in &self.modules {
            h = NasTensor::cat(branches.iter().map(|b| b.forward(h.clone())).collect(), 1);
            if *is_level {
                h = hook.level(level, h);
                level += 1;
            }
        }
        self.fc.forward(global_average(h))
    }
}

/// The registry entry point of Inception v3.
fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    super::build_from_weights("inception_v3", "inception_v3_google-0cc3c7bd.pth", params, ctx, InceptionV3::load)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "inception_v3",
        summary: "torchvision Inception v3 (trained at 299x299); levels: stem max-pools 1 and 2, Mixed_5d, Mixed_6e, Mixed_7c",
        params: super::BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build),
    }
}
