//! Inference-mode building blocks shared by the backbones: convolutions with their BatchNorm
//! folded in, max pooling, linear layers, LayerNorms and GELU, loaded from torchvision
//! state-dict keys.
//!
//! On the CPU, outside a [`differentiable`](nas_core::differentiable) scope, convolutions, max
//! pooling, LayerNorms and the smooth activations (GELU, SiLU) run `nas_conv`'s host kernels
//! (convolution weights prepared once at load time); on a GPU, or when gradients must flow, they
//! run burn's differentiable operations.

use super::host_gradient::HostMap;
use nas_conv::dense;
pub use nas_conv::ConvGeometry;
use nas_conv::{avg_pool2d, max_pool2d, Activation, Conv2dPlan, InputGradientPlan, PoolGeometry};
use nas_core::burn::tensor::activation::{gelu, relu, silu};
use nas_core::burn::tensor::module::{avg_pool2d as burn_avg_pool2d, conv2d, max_pool2d as burn_max_pool2d};
use nas_core::burn::tensor::ops::PaddedConvOptions;
use nas_core::burn::tensor::{FloatDType, Int, Tensor, TensorData};
use nas_core::device::{is_cpu, runs_on_host};
use nas_core::weights::StateDict;
use nas_core::{Device, NasError, NasTensor, Objective, Result};
use std::sync::OnceLock;

/// A convolution followed by inference-mode BatchNorm, folded into one convolution with bias.
pub struct ConvBn {
    conv: Conv2d,
}

impl ConvBn {
    /// Loads `conv.weight` and the BatchNorm `bn.{weight,bias,running_mean,running_var}` and folds
    /// them: `w' = w * gamma / sqrt(var + eps)`, `b' = beta - mean * gamma / sqrt(var + eps)`.
    pub fn load(sd: &mut StateDict, conv: &str, bn: &str, eps: f32, shape: ConvGeometry) -> Result<ConvBn> {
        ConvBn::fold(sd, conv, bn, eps, shape, false)
    }

    /// [`ConvBn::load`] for a convolution with its own bias (`conv.bias`, as torchvision's
    /// VGG-BN convolutions have), which BatchNorm shifts and scales with the rest.
    pub fn load_biased(sd: &mut StateDict, conv: &str, bn: &str, eps: f32, shape: ConvGeometry) -> Result<ConvBn> {
        ConvBn::fold(sd, conv, bn, eps, shape, true)
    }

    fn fold(sd: &mut StateDict, conv: &str, bn: &str, eps: f32, shape: ConvGeometry, biased: bool) -> Result<ConvBn> {
        let out = shape.out_channels;
        let mut weight = sd.take_values(&format!("{conv}.weight"), &shape.weight_dims())?;
        let conv_bias = if biased {
            sd.take_values(&format!("{conv}.bias"), &[out])?
        } else {
            vec![0f32; out]
        };
        let bias = fold_batch_norm(sd, bn, eps, &mut weight, &conv_bias)?;
        Ok(ConvBn {
            conv: Conv2d::from_values(weight, bias, shape, sd.device())?,
        })
    }

    /// Applies the folded convolution.
    pub fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.conv.forward(x)
    }

    /// The folded convolution (BatchNorm merged in, as zennit's canonizers merge it).
    pub fn folded(&self) -> &Conv2d {
        &self.conv
    }

    /// The folded convolution, owned.
    pub fn into_folded(self) -> Conv2d {
        self.conv
    }

    /// Applies the convolution and a ReLU.
    pub fn forward_relu(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.conv.run(x, Activation::Relu)
    }

    /// Applies the convolution and `activation` (a network's choice of ReLU or ReLU6).
    pub fn forward_activated(&self, x: NasTensor<4>, activation: Activation) -> NasTensor<4> {
        self.conv.run(x, activation)
    }

    /// Applies the convolution and SiLU.
    pub fn forward_silu(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.conv.forward_silu(x)
    }

    /// Applies the convolution and hard swish.
    pub fn forward_hardswish(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.conv.forward_hardswish(x)
    }
}

/// A fully connected layer, `y = x W^T + b` as in PyTorch.
///
/// A classifier layer ([`Linear::load`]; a few rows at a time) on the CPU keeps `W` as PyTorch
/// stores it (`(out, in)`, row-major): outside a [`differentiable`](nas_core::differentiable)
/// scope its forward pass and input gradient run `nas_conv::dense` on `W` itself (each photo
/// alone, so a batch gives the single runs' values bit for bit), and
/// burn's product (differentiable scopes, LRP) gets `W^T` made on first use. Transposing
/// VGG-16's 4096 x 25088 classifier weight at load and again in every backward pass took a
/// third of `nas predict --backbone vgg16`. A token-wise layer ([`Linear::load_token_wise`]:
/// ViT's hundreds of rows) and any layer off the CPU keep `W^T` materialised for burn's
/// product, which packs it faster than a host product reads `W` transposed (ViT-B/16's
/// forward pass: 170 ms against 224 ms, `forward_bench`).
pub struct Linear {
    /// `W` `(out, in)`, row-major, when the layer lives on the CPU.
    host: Option<Vec<f32>>,
    /// `W^T` `(in, out)` for burn: made at load off the CPU, on first use on it.
    transposed: OnceLock<NasTensor<2>>,
    bias: NasTensor<1>,
    host_bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
    device: Device,
}

impl Linear {
    /// Loads a classifier layer: `key.weight` `(out, in)` and `key.bias` `(out)`.
    pub fn load(sd: &mut StateDict, key: &str, inputs: usize, outputs: usize) -> Result<Linear> {
        Linear::load_as(sd, key, [outputs, inputs], true)
    }

    /// Loads a classifier layer without bias (`key.weight` only), as MaxViT's last one.
    pub fn load_unbiased(sd: &mut StateDict, key: &str, inputs: usize, outputs: usize) -> Result<Linear> {
        let weight = sd.take_values(&format!("{key}.weight"), &[outputs, inputs])?;
        Ok(Linear::from_values(
            weight,
            vec![0.0; outputs],
            [outputs, inputs],
            sd.device(),
            true,
        ))
    }

    /// Loads a token-wise layer (applied to every token of a sequence) the same way.
    pub fn load_token_wise(sd: &mut StateDict, key: &str, inputs: usize, outputs: usize) -> Result<Linear> {
        Linear::load_as(sd, key, [outputs, inputs], false)
    }

    /// Loads `key.weight` and `key.bias`, keeping `W` for the host kernels when `classifier`.
    fn load_as(sd: &mut StateDict, key: &str, [outputs, inputs]: [usize; 2], classifier: bool) -> Result<Linear> {
        let weight = sd.take_values(&format!("{key}.weight"), &[outputs, inputs])?;
        let bias = sd.take_values(&format!("{key}.bias"), &[outputs])?;
        Ok(Linear::from_values(weight, bias, [outputs, inputs], sd.device(), classifier))
    }

    /// A layer from PyTorch-layout values: `weight` `(out, in)` row-major and `bias` `(out)`;
    /// `classifier` keeps `W` for the host product on the CPU.
    fn from_values(weight: Vec<f32>, bias: Vec<f32>, [outputs, inputs]: [usize; 2], device: &Device, classifier: bool) -> Linear {
        let on_cpu = is_cpu(device);
        let transposed = OnceLock::new();
        let host = if on_cpu && classifier {
            Some(weight)
        } else {
            let _ = transposed.set(transpose_values(weight, [outputs, inputs], device));
            None
        };
        Linear {
            host,
            transposed,
            bias: NasTensor::from_data(TensorData::new(bias.clone(), [outputs]), device),
            host_bias: bias,
            inputs,
            outputs,
            device: device.clone(),
        }
    }

    /// `W^T` `(in, out)` as a tensor, made on first use on the CPU.
    fn weight_t(&self) -> &NasTensor<2> {
        self.transposed.get_or_init(|| {
            let host = self.host.clone().unwrap_or_default();
            transpose_values(host, [self.outputs, self.inputs], &self.device)
        })
    }

    /// `W`'s values when the layer lives on the CPU and `x` may be computed on the host.
    fn host_weight<const D: usize>(&self, x: &NasTensor<D>) -> Option<&[f32]> {
        self.host.as_deref().filter(|_| runs_on_host(x))
    }

    /// Applies the layer to `(batch, inputs)`.
    pub fn forward(&self, x: NasTensor<2>) -> NasTensor<2> {
        if let Some(weight) = self.host_weight(&x) {
            let rows = x.dims()[0];
            let values = x.clone().mul_scalar(1.0).into_data().into_vec::<f32>().ok();
            if let Some(values) = values.filter(|v| v.len() == rows * self.inputs) {
                let y = dense::forward(&values, rows, weight, &self.host_bias, self.outputs);
                return NasTensor::from_data(TensorData::new(y, [rows, self.outputs]), &self.device);
            }
        }
        x.matmul(self.weight_t().clone()) + self.bias.clone().unsqueeze::<2>()
    }

    /// The gradient with respect to the input `(batch, inputs)` of a gradient `grad` with
    /// respect to the output `(batch, outputs)`.
    pub fn input_gradient(&self, grad: NasTensor<2>) -> NasTensor<2> {
        if let Some(weight) = self.host_weight(&grad) {
            let rows = grad.dims()[0];
            let values = grad.clone().mul_scalar(1.0).into_data().into_vec::<f32>().ok();
            if let Some(values) = values.filter(|v| v.len() == rows * self.outputs) {
                let x = dense::input_gradient(&values, rows, weight, self.outputs);
                return NasTensor::from_data(TensorData::new(x, [rows, self.inputs]), &self.device);
            }
        }
        grad.matmul(self.weight_t().clone().transpose())
    }

    /// The gradient of each of `samples` samples' `objective` on the outputs with respect to the
    /// input, `(samples, inputs)`: for a target, that output's weight row; for weighted outputs,
    /// the weighted sum of the rows.
    pub fn objective_gradient(&self, objective: Objective<'_>, samples: usize) -> Result<NasTensor<2>> {
        let outputs = self.outputs;
        match objective {
            Objective::Targets(targets) => {
                if targets.len() != samples {
                    return Err(NasError::InvalidInput(format!("{} targets for {samples} photos", targets.len())));
                }
                if let Some(bad) = targets.iter().find(|&&t| t >= outputs) {
                    return Err(NasError::InvalidInput(format!(
                        "target class {bad} is out of range: the backbone has {outputs} classes"
                    )));
                }
                if let Some(weight) = self.host.as_deref() {
                    let rows: Vec<f32> = targets
                        .iter()
                        .flat_map(|&t| weight[t * self.inputs..][..self.inputs].iter().copied())
                        .collect();
                    return Ok(NasTensor::from_data(TensorData::new(rows, [samples, self.inputs]), &self.device));
                }
                let index: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
                let index = Tensor::<nas_core::Backend, 1, Int>::from_data(TensorData::new(index, [samples]), &self.device);
                Ok(self.weight_t().clone().select(1, index).transpose())
            }
            Objective::WeightedLogits(weights) => {
                if weights.len() != samples * outputs {
                    return Err(NasError::InvalidInput(format!(
                        "{} logit weights for {samples} photos with {outputs} classes",
                        weights.len()
                    )));
                }
                Ok(self.input_gradient(NasTensor::<2>::from_data(
                    TensorData::new(weights.to_vec(), [samples, outputs]),
                    &self.device,
                )))
            }
        }
    }

    /// `W^T` `(in, out)` and the bias `(out)`.
    pub fn transposed_weight_and_bias(&self) -> (&NasTensor<2>, &NasTensor<1>) {
        (self.weight_t(), &self.bias)
    }

    /// Applies the layer to `f64` values `(batch, inputs)`, its weights cast to `f64`.
    pub fn forward_f64(&self, x: NasTensor<2>) -> NasTensor<2> {
        x.matmul(as_f64(self.weight_t().clone())) + as_f64(self.bias.clone()).unsqueeze::<2>()
    }
}

/// `x` as `f64` values: for rules that divide by small differences of activations, whose `f32`
/// rounding errors grow through a network (Chefer et al.'s LRP for transformers).
pub fn as_f64<const D: usize>(x: NasTensor<D>) -> NasTensor<D> {
    x.cast(FloatDType::F64)
}

/// `W^T` `(in, out)` as a tensor on `device`, from `W` `(out, in)` row-major, materialised (burn's
/// copy of the transposed view is several times faster than a plain loop over the values).
fn transpose_values(weight: Vec<f32>, [outputs, inputs]: [usize; 2], device: &Device) -> NasTensor<2> {
    let weight = NasTensor::<2>::from_data(TensorData::new(weight, [outputs, inputs]), device);
    NasTensor::from_data(weight.transpose().into_data(), device)
}

/// Applies `linear` to every token of `(groups, tokens, inputs)` (a ViT's batch of sequences,
/// or MaxViT's windows).
pub fn per_token(linear: &Linear, x: NasTensor<3>) -> NasTensor<3> {
    let [g, n, d] = x.dims();
    let y = linear.forward(x.reshape([g * n, d]));
    let out = y.dims()[1];
    y.reshape([g, n, out])
}

/// Global average pooling `(batch, c, h, w) -> (batch, c)`.
pub fn global_average(x: NasTensor<4>) -> NasTensor<2> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h * w]).mean_dim(2).reshape([b, c])
}

/// A plain convolution with bias (no BatchNorm), loaded from `key.weight` and `key.bias`.
///
/// On the CPU, outside a [`differentiable`](nas_core::differentiable) scope, an ordinary or
/// depthwise convolution runs `nas_conv`'s kernels with weights prepared at load time (Winograd
/// for 3x3 stride 1, blocked im2col or direct depthwise otherwise); everywhere else it runs
/// burn's `conv2d`.
pub struct Conv2d {
    weight: NasTensor<4>,
    bias: NasTensor<1>,
    shape: ConvGeometry,
    prepared: Option<Conv2dPlan>,
    /// The input gradient's plan, prepared on the first host backward pass (most runs take none).
    input_gradient: OnceLock<std::result::Result<InputGradientPlan, String>>,
}

impl Conv2d {
    /// Loads `key.weight` `(out, in / groups, k, k)` and `key.bias` `(out)`.
    pub fn load(sd: &mut StateDict, key: &str, shape: ConvGeometry) -> Result<Conv2d> {
        let weight = sd.take_values(&format!("{key}.weight"), &shape.weight_dims())?;
        let bias = sd.take_values(&format!("{key}.bias"), &[shape.out_channels])?;
        Conv2d::from_values(weight, bias, shape, sd.device())
    }

    /// Loads a linear layer's `key.weight` `(outputs, inputs)` and `key.bias` as the 1x1
    /// convolution it is when applied to every pixel of a `(batch, inputs, h, w)` map.
    pub fn load_pixel_wise_linear(sd: &mut StateDict, key: &str, inputs: usize, outputs: usize) -> Result<Conv2d> {
        let weight = sd.take_values(&format!("{key}.weight"), &[outputs, inputs])?;
        let bias = sd.take_values(&format!("{key}.bias"), &[outputs])?;
        Conv2d::from_values(weight, bias, ConvGeometry::symmetric(inputs, outputs, 1, 1, 0), sd.device())
    }

    /// Loads `key.weight` of a convolution without bias.
    pub fn load_unbiased(sd: &mut StateDict, key: &str, shape: ConvGeometry) -> Result<Conv2d> {
        let weight = sd.take_values(&format!("{key}.weight"), &shape.weight_dims())?;
        Conv2d::from_values(weight, vec![0f32; shape.out_channels], shape, sd.device())
    }

    /// A convolution from PyTorch-layout values on `device`.
    fn from_values(weight: Vec<f32>, bias: Vec<f32>, shape: ConvGeometry, device: &Device) -> Result<Conv2d> {
        let on_cpu = is_cpu(device);
        // Geometries nas-conv refuses (groups that do not divide the channels) stay with burn.
        let prepared = if on_cpu && shape.validate().is_ok() {
            let plan =
                Conv2dPlan::new(shape, &weight, Some(&bias)).map_err(|e| NasError::InvalidInput(format!("convolution {shape:?}: {e}")))?;
            Some(plan)
        } else {
            None
        };
        Ok(Conv2d {
            weight: NasTensor::from_data(TensorData::new(weight, shape.weight_dims()), device),
            bias: NasTensor::from_data(TensorData::new(bias, [shape.out_channels]), device),
            shape,
            prepared,
            input_gradient: OnceLock::new(),
        })
    }

    /// Applies the convolution.
    pub fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.run(x, Activation::Identity)
    }

    /// The weight `(out, in / groups, k, k)`, the bias and the geometry.
    pub fn parts(&self) -> (&NasTensor<4>, &NasTensor<1>, ConvGeometry) {
        (&self.weight, &self.bias, self.shape)
    }

    /// Stride, padding and groups as burn's `conv2d` takes them.
    fn options(&self) -> PaddedConvOptions<2> {
        let s = self.shape;
        let [top, left, bottom, right] = s.padding;
        PaddedConvOptions::asymmetric([s.stride; 2], [top, left], [bottom, right], [1, 1], s.groups)
    }

    /// burn's `conv2d` of `x` with this layer's geometry and the given weights (the layer's own,
    /// or modified ones for an LRP rule). A 1x1 convolution with a stride above one (ResNet's
    /// downsampling shortcut) runs as a subsampling followed by a stride-1 convolution: the same
    /// values, and a backward pass that burn 0.21's GPU kernels get right (their input gradient
    /// of a strided 1x1 convolution is all zeros; see docs/architecture.md).
    pub fn convolve(&self, x: NasTensor<4>, weight: NasTensor<4>, bias: Option<NasTensor<1>>) -> NasTensor<4> {
        let s = self.shape;
        if s.kernel == 1 && s.stride > 1 && s.padding == [0; 4] {
            let pointwise = PaddedConvOptions::asymmetric([1, 1], [0, 0], [0, 0], [1, 1], s.groups);
            return conv2d(subsample(x, s.stride), weight, bias, pointwise);
        }
        conv2d(x, weight, bias, self.options())
    }

    /// Whether the host kernels can run this convolution (on the CPU, ordinary or depthwise).
    pub(crate) fn runs_on_host_kernels(&self) -> bool {
        self.prepared.is_some()
    }

    /// The convolution and `activation` on host values, by the prepared kernels.
    pub(crate) fn host_forward(&self, x: &HostMap, activation: Activation) -> Result<HostMap> {
        let plan = self.prepared.as_ref().ok_or_else(|| self.not_on_host())?;
        let [batch, _, height, width] = x.dims;
        let out = plan
            .run(&x.data, batch, height, width, activation)
            .map_err(|e| NasError::InvalidInput(format!("convolution {:?}: {e}", self.shape)))?;
        Ok(HostMap {
            data: out.data,
            dims: [batch, self.shape.out_channels, out.height, out.width],
        })
    }

    /// The bias's values.
    pub(crate) fn host_bias(&self) -> Result<Vec<f32>> {
        self.bias
            .clone()
            .into_data()
            .into_vec::<f32>()
            .map_err(|e| NasError::InvalidInput(format!("bias of convolution {:?}: {e:?}", self.shape)))
    }

    /// The gradient with respect to an input of `input_size` of the output gradient `grad`.
    pub(crate) fn host_input_gradient(&self, grad: &HostMap, input_size: (usize, usize)) -> Result<HostMap> {
        if self.prepared.is_none() {
            return Err(self.not_on_host());
        }
        let plan = self
            .input_gradient
            .get_or_init(|| {
                let weight = self.weight.clone().into_data().into_vec::<f32>().map_err(|e| format!("{e:?}"))?;
                InputGradientPlan::new(self.shape, &weight).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| NasError::InvalidInput(format!("input gradient of convolution {:?}: {e}", self.shape)))?;
        let (height, width) = input_size;
        let batch = grad.dims[0];
        let data = plan
            .run(&grad.data, batch, height, width)
            .map_err(|e| NasError::InvalidInput(format!("input gradient of convolution {:?}: {e}", self.shape)))?;
        Ok(HostMap {
            data,
            dims: [batch, self.shape.in_channels, height, width],
        })
    }

    fn not_on_host(&self) -> NasError {
        NasError::InvalidInput(format!(
            "convolution {:?} has no host kernels (its weights are not on the CPU)",
            self.shape
        ))
    }

    /// Applies the convolution and a ReLU.
    pub fn forward_relu(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.run(x, Activation::Relu)
    }

    /// Applies the convolution and the exact GELU (ConvNeXt's MLP).
    pub fn forward_gelu(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.run_smooth(x, nas_conv::gelu_in_place, gelu_of)
    }

    /// Applies the convolution and SiLU (EfficientNet-B's activation).
    pub fn forward_silu(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.run_smooth(x, nas_conv::silu_in_place, silu_of)
    }

    /// Applies the convolution and hard swish (MobileNetV3's activation).
    pub fn forward_hardswish(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.run_smooth(x, nas_conv::hardswish_in_place, hardswish)
    }

    /// The convolution followed by a smooth activation: `host` over the output values on the
    /// host kernels, else burn's `differentiable` one.
    fn run_smooth(&self, x: NasTensor<4>, host: fn(&mut [f32]), differentiable: fn(NasTensor<4>) -> NasTensor<4>) -> NasTensor<4> {
        if let Some(plan) = self.prepared.as_ref().filter(|_| runs_on_host(&x)) {
            if let Some(y) = run_prepared(plan, x.clone(), Activation::Identity, host) {
                return y;
            }
        }
        differentiable(self.convolve(x, self.weight.clone(), Some(self.bias.clone())))
    }

    /// The convolution, followed by `activation`.
    fn run(&self, x: NasTensor<4>, activation: Activation) -> NasTensor<4> {
        if let Some(plan) = self.prepared.as_ref().filter(|_| runs_on_host(&x)) {
            if let Some(y) = run_prepared(plan, x.clone(), activation, |_| ()) {
                return y;
            }
        }
        let y = self.convolve(x, self.weight.clone(), Some(self.bias.clone()));
        match activation {
            Activation::Identity => y,
            Activation::Relu => relu(y),
            Activation::Relu6 => y.clamp(0.0, 6.0),
        }
    }
}

/// Every `stride`-th row and column of `x`, the first included: what a 1x1 convolution of that
/// stride reads. Reshaping and narrowing, so that every backend differentiates it correctly.
fn subsample(x: NasTensor<4>, stride: usize) -> NasTensor<4> {
    let [batch, channels, height, width] = x.dims();
    let (rows, cols) = (height.div_ceil(stride), width.div_ceil(stride));
    let device = x.device();
    // Zeros at the bottom and right up to whole multiples of the stride; never read.
    let x = match rows * stride - height {
        0 => x,
        extra => NasTensor::cat(vec![x, NasTensor::zeros([batch, channels, extra, width], &device)], 2),
    };
    let x = match cols * stride - width {
        0 => x,
        extra => NasTensor::cat(vec![x, NasTensor::zeros([batch, channels, rows * stride, extra], &device)], 3),
    };
    x.reshape([batch, channels, rows, stride, cols, stride])
        .narrow(3, 0, 1)
        .narrow(5, 0, 1)
        .reshape([batch, channels, rows, cols])
}

/// Runs a prepared convolution on the host copy of `x`, then `finish` on its output values;
/// `None` (burn's path then runs and reports the problem) when `x` is not an f32 tensor of the
/// plan's shape.
fn run_prepared(plan: &Conv2dPlan, x: NasTensor<4>, activation: Activation, finish: impl FnOnce(&mut [f32])) -> Option<NasTensor<4>> {
    let [batch, _, height, width] = x.dims();
    let device = x.device();
    let mut out = plan.run(&host_values(x)?, batch, height, width, activation).ok()?;
    finish(&mut out.data);
    let dims = [batch, plan.geometry().out_channels, out.height, out.width];
    Some(NasTensor::from_data(TensorData::new(out.data, dims), &device))
}

/// The values of a CPU tensor, in its own f32 buffer.
///
/// burn-flex hands a tensor's buffer over without copying only when nothing else shares it;
/// otherwise it copies through an unaligned byte vector and realigns it (2.3 ms for a 3.2 MB
/// ResNet stem map). Multiplying by one first gives a fresh buffer in 0.1 ms with the same values.
pub(crate) fn host_values<const D: usize>(x: NasTensor<D>) -> Option<Vec<f32>> {
    x.mul_scalar(1.0).into_data().into_vec::<f32>().ok()
}

/// Max pooling as PyTorch's `MaxPool2d(kernel, stride, padding)`: `nas_conv`'s host kernel on the
/// CPU outside a differentiable scope, burn's `max_pool2d` elsewhere.
pub fn max_pool(x: NasTensor<4>, kernel: usize, stride: usize, padding: usize) -> NasTensor<4> {
    if runs_on_host(&x) {
        let [batch, channels, height, width] = x.dims();
        let device = x.device();
        let pool = PoolGeometry { kernel, stride, padding };
        let pooled = host_values(x.clone()).and_then(|values| max_pool2d(&values, batch, channels, height, width, pool).ok());
        if let Some(out) = pooled {
            return NasTensor::from_data(TensorData::new(out.data, [batch, channels, out.height, out.width]), &device);
        }
    }
    burn_max_pool2d(x, [kernel, kernel], [stride, stride], [padding, padding], [1, 1], false)
}

/// Average pooling as PyTorch's `F.avg_pool2d(x, kernel, stride, padding)`, the zero padding
/// counted in each window: `nas_conv`'s host kernel on the CPU outside a differentiable scope,
/// burn's `avg_pool2d` elsewhere.
pub fn avg_pool(x: NasTensor<4>, kernel: usize, stride: usize, padding: usize) -> NasTensor<4> {
    if runs_on_host(&x) {
        let [batch, channels, height, width] = x.dims();
        let device = x.device();
        let pool = PoolGeometry { kernel, stride, padding };
        let pooled = host_values(x.clone()).and_then(|values| avg_pool2d(&values, batch, channels, height, width, pool).ok());
        if let Some(out) = pooled {
            return NasTensor::from_data(TensorData::new(out.data, [batch, channels, out.height, out.width]), &device);
        }
    }
    burn_avg_pool2d(x, [kernel, kernel], [stride, stride], [padding, padding], true, false)
}

/// Max pooling as PyTorch's `MaxPool2d(kernel, stride, padding, ceil_mode=True)` (GoogLeNet's):
/// the output size rounded up, the last window reaching past the bottom and right edges where it
/// still starts inside the input or its left padding; the overhang is padded with minus infinity,
/// so it is never a maximum, and the pooling is [`max_pool`]'s.
pub fn max_pool_ceil(x: NasTensor<4>, kernel: usize, stride: usize, padding: usize) -> NasTensor<4> {
    let [_, _, height, width] = x.dims();
    let overhang = |side: usize| {
        let span = (side + 2 * padding).saturating_sub(kernel);
        let mut outputs = span.div_ceil(stride) + 1;
        if (outputs - 1) * stride >= side + padding {
            outputs -= 1;
        }
        ((outputs - 1) * stride + kernel).saturating_sub(side + 2 * padding)
    };
    let (bottom, right) = (overhang(height), overhang(width));
    let x = if bottom + right > 0 {
        x.pad([(0, 0), (0, 0), (0, bottom), (0, right)], f32::NEG_INFINITY)
    } else {
        x
    };
    max_pool(x, kernel, stride, padding)
}

/// Folds inference-mode BatchNorm `bn` (`weight`, `bias`, `running_mean`, `running_var`) into
/// the convolution before it: scales `weight` (`(out, ...)` row-major) in place and returns the
/// folded bias, from the convolution's own `conv_bias` (zeros for none).
pub fn fold_batch_norm(sd: &mut StateDict, bn: &str, eps: f32, weight: &mut [f32], conv_bias: &[f32]) -> Result<Vec<f32>> {
    let out = conv_bias.len();
    let gamma = sd.take_values(&format!("{bn}.weight"), &[out])?;
    let beta = sd.take_values(&format!("{bn}.bias"), &[out])?;
    let mean = sd.take_values(&format!("{bn}.running_mean"), &[out])?;
    let var = sd.take_values(&format!("{bn}.running_var"), &[out])?;
    let per_out = weight.len() / out.max(1);
    let mut bias = vec![0f32; out];
    for o in 0..out {
        let scale = gamma[o] / (var[o] + eps).sqrt();
        for w in &mut weight[o * per_out..(o + 1) * per_out] {
            *w *= scale;
        }
        bias[o] = beta[o] + (conv_bias[o] - mean[o]) * scale;
    }
    Ok(bias)
}

/// Hard swish, `x * relu6(x + 3) / 6`, on burn's differentiable operations.
pub fn hardswish<const D: usize>(x: NasTensor<D>) -> NasTensor<D> {
    x.clone() * hardsigmoid(x)
}

/// Hard sigmoid, `relu6(x + 3) / 6` (MobileNetV3's squeeze-excitation gate), on burn's
/// differentiable operations.
pub fn hardsigmoid<const D: usize>(x: NasTensor<D>) -> NasTensor<D> {
    (x + 3.0).clamp(0.0, 6.0) / 6.0
}

/// The exact GELU of every value of `x`: `nas_conv`'s host kernel on the CPU (with its slopes
/// where gradients flow), burn's `gelu` elsewhere.
pub fn gelu_of<const D: usize>(x: NasTensor<D>) -> NasTensor<D> {
    on_host(&x, nas_conv::gelu_in_place)
        .or_else(|| with_host_slopes(&x, nas_conv::gelu_with_slopes))
        .unwrap_or_else(|| gelu(x))
}

/// SiLU of every value of `x`: `nas_conv`'s host kernel on the CPU (with its slopes where
/// gradients flow), burn's `silu` elsewhere.
pub fn silu_of<const D: usize>(x: NasTensor<D>) -> NasTensor<D> {
    on_host(&x, nas_conv::silu_in_place)
        .or_else(|| with_host_slopes(&x, nas_conv::silu_with_slopes))
        .unwrap_or_else(|| silu(x))
}

/// An element-wise activation of `x` that burn differentiates, its values and derivatives from
/// the host `kernel` (which replaces values by the activation's and returns the derivatives):
/// `values + (x - x.detach()) * slopes`. The second term is exactly zero, so the values are the
/// kernel's; backward, it passes the incoming gradient times the slopes. burn's own GELU and SiLU
/// evaluate `erf` and `exp` one element at a time, forward and again backward, for most of a
/// ConvNeXt's gradient. `None` off the CPU.
fn with_host_slopes<const D: usize>(x: &NasTensor<D>, kernel: fn(&mut [f32]) -> Vec<f32>) -> Option<NasTensor<D>> {
    let device = x.device();
    if !is_cpu(&device) {
        return None;
    }
    let mut values = host_values(x.clone().detach())?;
    let slopes = kernel(&mut values);
    let tensor = |v: Vec<f32>| NasTensor::<D>::from_data(TensorData::new(v, x.shape()), &device);
    Some(tensor(values) + (x.clone() - x.clone().detach()) * tensor(slopes))
}

/// `kernel` applied to the host copy of `x`'s values, the result shaped as `x`: `None` where
/// `x` must stay with burn (off the CPU, or gradients flow through it).
fn on_host<const D: usize>(x: &NasTensor<D>, kernel: impl FnOnce(&mut [f32])) -> Option<NasTensor<D>> {
    if !runs_on_host(x) {
        return None;
    }
    let mut values = host_values(x.clone())?;
    kernel(&mut values);
    Some(NasTensor::from_data(TensorData::new(values, x.shape()), &x.device()))
}

/// Layer normalisation over the last dimension, `(x - mean) / sqrt(var + eps) * gamma + beta`,
/// with the biased variance as in PyTorch.
pub struct LayerNorm {
    gamma: NasTensor<1>,
    beta: NasTensor<1>,
    /// The host copies of `gamma` and `beta`, for the host kernels.
    host: (Vec<f32>, Vec<f32>),
    eps: f64,
}

impl LayerNorm {
    /// Loads `key.weight` and `key.bias`, both `(dim)`.
    pub fn load(sd: &mut StateDict, key: &str, dim: usize, eps: f64) -> Result<LayerNorm> {
        let gamma = sd.take_values(&format!("{key}.weight"), &[dim])?;
        let beta = sd.take_values(&format!("{key}.bias"), &[dim])?;
        let tensor = |values: &[f32]| NasTensor::from_data(TensorData::new(values.to_vec(), [dim]), sd.device());
        Ok(LayerNorm {
            gamma: tensor(&gamma),
            beta: tensor(&beta),
            host: (gamma, beta),
            eps,
        })
    }

    /// Normalises `x` over its last dimension, which must have the loaded size.
    pub fn forward<const D: usize>(&self, x: NasTensor<D>) -> NasTensor<D> {
        let (gamma, beta) = &self.host;
        on_host(&x, |values| nas_conv::layer_norm_rows(values, gamma, beta, self.eps as f32)).unwrap_or_else(|| self.normalise(x, false))
    }

    /// [`LayerNorm::forward`] of `f64` values, the parameters cast to `f64`.
    pub fn forward_f64<const D: usize>(&self, x: NasTensor<D>) -> NasTensor<D> {
        let normed = standardise(x, D - 1, self.eps, false);
        normed * as_f64(self.gamma.clone()).unsqueeze::<D>() + as_f64(self.beta.clone()).unsqueeze::<D>()
    }

    /// [`LayerNorm::forward`] with the standard deviation held constant in the backward pass:
    /// LRP's identity rule for normalisations, in the gradient x input form.
    pub fn forward_fixed_scale<const D: usize>(&self, x: NasTensor<D>) -> NasTensor<D> {
        self.normalise(x, true)
    }

    /// Normalises each pixel of `x` `(batch, channels, h, w)` over its channels: torchvision's
    /// `LayerNorm2d`, ConvNeXt's normalisation.
    pub fn forward_channels(&self, x: NasTensor<4>) -> NasTensor<4> {
        let (gamma, beta) = &self.host;
        let [_, _, height, width] = x.dims();
        if let Some(y) = on_host(&x, |values| {
            nas_conv::layer_norm_channels(values, height * width, gamma, beta, self.eps as f32)
        }) {
            return y;
        }
        let normed = if is_cpu(&x.device()) {
            standardise_channels(x, self.eps)
        } else {
            standardise(x, 1, self.eps, false)
        };
        let per_channel = |t: &NasTensor<1>| t.clone().unsqueeze_dims::<4>(&[0, 2, 3]);
        normed * per_channel(&self.gamma) + per_channel(&self.beta)
    }

    fn normalise<const D: usize>(&self, x: NasTensor<D>, fixed_scale: bool) -> NasTensor<D> {
        let normed = standardise(x, D - 1, self.eps, fixed_scale);
        normed * self.gamma.clone().unsqueeze::<D>() + self.beta.clone().unsqueeze::<D>()
    }
}

/// [`standardise`] over the channels of `x` `(batch, channels, h, w)`, the means as products
/// with a row of `1 / channels`: burn reduces over a dimension other than the last one element
/// by element, forward and backward (21 ms for one 96x56x56 map's LayerNorm and its gradient,
/// against 1.4 ms as products). On the CPU only: the GPU runs the reduction checked there.
fn standardise_channels(x: NasTensor<4>, eps: f64) -> NasTensor<4> {
    let [batch, channels, height, width] = x.dims();
    let rows = x.reshape([batch, channels, height * width]);
    let average = NasTensor::<3>::from_data(
        TensorData::new(vec![1.0 / channels as f32; channels], [1, 1, channels]),
        &rows.device(),
    )
    .expand([batch, 1, channels]);
    let centred = rows.clone() - average.clone().matmul(rows);
    let var = average.matmul(centred.clone() * centred.clone());
    (centred / (var + eps).sqrt()).reshape([batch, channels, height, width])
}

/// `(x - mean) / sqrt(var + eps)` over dimension `dim` (biased variance), the denominator held
/// constant in the backward pass when `fixed_scale`.
fn standardise<const D: usize>(x: NasTensor<D>, dim: usize, eps: f64, fixed_scale: bool) -> NasTensor<D> {
    let (var, mean) = x.clone().var_mean_bias(dim);
    let scale = (var + eps).sqrt();
    let scale = if fixed_scale { scale.detach() } else { scale };
    (x - mean) / scale
}

impl Linear {
    /// A token-wise layer from PyTorch-layout values, `weight` `(out, in)` and `bias` `(out)`,
    /// for weights stored under other key names (e.g. a packed attention projection).
    pub fn token_wise(weight: Vec<f32>, bias: Vec<f32>, [outputs, inputs]: [usize; 2], device: &Device) -> Linear {
        Linear::from_values(weight, bias, [outputs, inputs], device, false)
    }
}

/// Inference-mode BatchNorm on its own, as a per-channel affine map: for networks whose
/// BatchNorms come before their convolutions (DenseNet), where folding cannot reach.
pub struct BatchNorm {
    scale: NasTensor<4>,
    shift: NasTensor<4>,
}

impl BatchNorm {
    /// Loads `key.{weight,bias,running_mean,running_var}` of `channels` channels.
    pub fn load(sd: &mut StateDict, key: &str, channels: usize, eps: f32) -> Result<BatchNorm> {
        let gamma = sd.take_values(&format!("{key}.weight"), &[channels])?;
        let beta = sd.take_values(&format!("{key}.bias"), &[channels])?;
        let mean = sd.take_values(&format!("{key}.running_mean"), &[channels])?;
        let var = sd.take_values(&format!("{key}.running_var"), &[channels])?;
        let scale: Vec<f32> = (0..channels).map(|c| gamma[c] / (var[c] + eps).sqrt()).collect();
        let shift: Vec<f32> = (0..channels).map(|c| beta[c] - mean[c] * scale[c]).collect();
        let tensor = |values: Vec<f32>| NasTensor::from_data(TensorData::new(values, [1, channels, 1, 1]), sd.device());
        Ok(BatchNorm {
            scale: tensor(scale),
            shift: tensor(shift),
        })
    }

    /// Normalises `x` `(batch, channels, h, w)`.
    pub fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        x * self.scale.clone() + self.shift.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nas_core::device::default_device;

    /// Values in [-1, 1) from a fixed sequence.
    fn sequence(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104729) % 2003) as f32 / 1001.5) - 1.0)
            .collect()
    }

    /// PyTorch's `max_pool2d(x, k, s, p, ceil_mode=True)` on a 5x7 map of alternating signs
    /// (torch 2.15's outputs), on the host kernel and inside a differentiable scope.
    #[test]
    fn ceil_mode_max_pooling_matches_pytorch() {
        let device = default_device();
        let values: Vec<f32> = (0..35).map(|i| if i % 2 == 0 { i as f32 } else { -(i as f32) }).collect();
        // ((kernel, stride, padding), output size, PyTorch's output)
        type Case = ((usize, usize, usize), [usize; 2], &'static [f32]);
        let cases: [Case; 4] = [
            ((3, 2, 0), [2, 3], &[16.0, 18.0, 20.0, 30.0, 32.0, 34.0]),
            (
                (2, 2, 0),
                [3, 4],
                &[8.0, 10.0, 12.0, 6.0, 22.0, 24.0, 26.0, 20.0, 28.0, 30.0, 32.0, 34.0],
            ),
            (
                (3, 2, 1),
                [3, 4],
                &[8.0, 10.0, 12.0, 12.0, 22.0, 24.0, 26.0, 26.0, 28.0, 30.0, 32.0, 34.0],
            ),
            (
                (2, 2, 1),
                [3, 4],
                &[0.0, 2.0, 4.0, 6.0, 14.0, 16.0, 18.0, 20.0, 28.0, 30.0, 32.0, 34.0],
            ),
        ];
        for differentiable in [false, true] {
            let _scope = differentiable.then(nas_core::differentiable::differentiable);
            for ((kernel, stride, padding), [height, width], expected) in cases {
                let x = NasTensor::<4>::from_data(TensorData::new(values.clone(), [1, 1, 5, 7]), &device);
                let y = max_pool_ceil(x, kernel, stride, padding);
                assert_eq!(y.dims(), [1, 1, height, width], "{kernel}/{stride}/{padding}");
                assert_eq!(
                    y.into_data().to_vec::<f32>().ok().as_deref(),
                    Some(expected),
                    "{kernel}/{stride}/{padding}"
                );
            }
        }
    }

    /// The subsampled 1x1 convolution gives burn's strided one's values and input gradient, for
    /// sizes that are and are not multiples of the stride.
    #[test]
    fn strided_pointwise_convolution_matches_burns_strided_convolution() -> Result<()> {
        let device = default_device();
        for (stride, [height, width]) in [(2, [8, 8]), (2, [9, 7]), (3, [10, 11])] {
            let shape = ConvGeometry::symmetric(4, 5, 1, stride, 0);
            let conv = Conv2d::from_values(sequence(20, 1), sequence(5, 2), shape, &device)?;
            let dims = [2, 4, height, width];
            let input = || NasTensor::<4>::from_data(TensorData::new(sequence(dims.iter().product(), 3), dims), &device).require_grad();
            let (ours_in, burns_in) = (input(), input());
            let ours = conv.convolve(ours_in.clone(), conv.weight.clone(), Some(conv.bias.clone()));
            let burns = conv2d(burns_in.clone(), conv.weight.clone(), Some(conv.bias.clone()), conv.options());
            assert_eq!(ours.dims(), burns.dims(), "stride {stride}, {height}x{width}");
            let out = ours.dims();
            let weights = || NasTensor::<4>::from_data(TensorData::new(sequence(out.iter().product(), 4), out), &device);
            let ours_grad = (ours.clone() * weights()).sum().backward();
            let burns_grad = (burns.clone() * weights()).sum().backward();
            let values = |t: NasTensor<4>| t.into_data().into_vec::<f32>().expect("f32 values");
            let gradient = |x: &NasTensor<4>, grads| values(x.grad(grads).expect("a gradient"));
            let pairs = [
                (values(ours.detach()), values(burns.detach())),
                (gradient(&ours_in, &ours_grad), gradient(&burns_in, &burns_grad)),
            ];
            for (a, b) in pairs {
                assert_eq!(a.len(), b.len(), "stride {stride}, {height}x{width}");
                let worst = a.iter().zip(&b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
                assert!(worst < 1e-5, "stride {stride}, {height}x{width}: differs by {worst}");
            }
        }
        Ok(())
    }
}
