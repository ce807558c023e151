//! torchvision's DenseNet-121, -161, -169 and -201, loaded from their state dicts: a 7x7 stem
//! with BatchNorm, ReLU and max pooling, four dense blocks (each layer BatchNorm, ReLU, 1x1
//! convolution, BatchNorm, ReLU, 3x3 convolution, its output concatenated to its input),
//! transitions between them (BatchNorm, ReLU, 1x1 convolution halving the channels, 2x2 average
//! pooling), a final BatchNorm and ReLU, global average pooling and a linear classifier. The
//! BatchNorms come before their convolutions, so they stay separate affine maps. torchvision's
//! own files keep an older key layout (`norm.1` for `norm1`), which is read as torchvision
//! reads it.
//!
//! Depth levels: the stem's max pooling (stride 4), the outputs of dense blocks 1, 2 and 3
//! (strides 4, 8, 16, before their transitions), and the final BatchNorm's ReLU (stride 32).

use super::layers::{global_average, max_pool, BatchNorm, Conv2d, ConvGeometry, Linear};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::burn::tensor::activation::relu;
use nas_core::burn::tensor::module::avg_pool2d;
use nas_core::burn::tensor::Tensor;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

const BN_EPS: f32 = 1e-5;
/// Channels of a dense layer's bottleneck, as multiples of the growth rate.
const BOTTLENECK: usize = 4;

/// A DenseNet's shape: initial channels, growth rate and layers per dense block.
#[derive(Clone, Copy)]
struct Shape {
    initial: usize,
    growth: usize,
    blocks: [usize; 4],
}

/// One layer of a dense block.
struct DenseLayer {
    norm1: BatchNorm,
    conv1: Conv2d,
    norm2: BatchNorm,
    conv2: Conv2d,
}

impl DenseLayer {
    /// The new features of the layer (to be concatenated to `x`).
    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let h = self.conv1.forward(relu(self.norm1.forward(x)));
        self.conv2.forward(relu(self.norm2.forward(h)))
    }
}

/// A transition: BatchNorm, ReLU, 1x1 convolution, 2x2 average pooling.
struct Transition {
    norm: BatchNorm,
    conv: Conv2d,
}

/// A torchvision DenseNet in inference mode.
pub struct DenseNet {
    info: BackboneInfo,
    device: Device,
    stem: Conv2d,
    stem_norm: BatchNorm,
    blocks: Vec<Vec<DenseLayer>>,
    transitions: Vec<Transition>,
    final_norm: BatchNorm,
    classifier: Linear,
}

/// torchvision's old key names (`...denselayer1.norm.1.weight`) as its current ones
/// (`...denselayer1.norm1.weight`), as `torchvision.models.densenet._load_state_dict` maps them.
fn current_key(key: &str) -> Option<String> {
    let (head, tail) = key.split_once(".denselayer")?;
    let (layer, rest) = tail.split_once('.')?;
    let (kind, rest) = rest.split_once('.')?;
    let (index, rest) = rest.split_once('.')?;
    (matches!(kind, "norm" | "relu" | "conv") && index.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("{head}.denselayer{layer}.{kind}{index}.{rest}"))
}

impl DenseNet {
    fn load(name: &str, shape: Shape, sd: &mut StateDict, num_classes: usize) -> Result<DenseNet> {
        sd.rename_keys(current_key);
        let stem = Conv2d::load_unbiased(sd, "features.conv0", ConvGeometry::symmetric(3, shape.initial, 7, 2, 3))?;
        let stem_norm = BatchNorm::load(sd, "features.norm0", shape.initial, BN_EPS)?;
        let (mut blocks, mut transitions) = (Vec::new(), Vec::new());
        let mut channels = shape.initial;
        let mut level_channels = [shape.initial; 5];
        let width = BOTTLENECK * shape.growth;
        for (b, &count) in shape.blocks.iter().enumerate() {
            let mut layers = Vec::with_capacity(count);
            for l in 0..count {
                let p = format!("features.denseblock{}.denselayer{}", b + 1, l + 1);
                layers.push(DenseLayer {
                    norm1: BatchNorm::load(sd, &format!("{p}.norm1"), channels, BN_EPS)?,
                    conv1: Conv2d::load_unbiased(sd, &format!("{p}.conv1"), ConvGeometry::symmetric(channels, width, 1, 1, 0))?,
                    norm2: BatchNorm::load(sd, &format!("{p}.norm2"), width, BN_EPS)?,
                    conv2: Conv2d::load_unbiased(sd, &format!("{p}.conv2"), ConvGeometry::symmetric(width, shape.growth, 3, 1, 1))?,
                });
                channels += shape.growth;
            }
            blocks.push(layers);
            level_channels[(b + 1).min(4)] = channels;
            if b + 1 < shape.blocks.len() {
                let p = format!("features.transition{}", b + 1);
                transitions.push(Transition {
                    norm: BatchNorm::load(sd, &format!("{p}.norm"), channels, BN_EPS)?,
                    conv: Conv2d::load_unbiased(sd, &format!("{p}.conv"), ConvGeometry::symmetric(channels, channels / 2, 1, 1, 0))?,
                });
                channels /= 2;
            }
        }
        let final_norm = BatchNorm::load(sd, "features.norm5", channels, BN_EPS)?;
        let classifier = Linear::load(sd, "classifier", channels, num_classes)?;
        Ok(DenseNet {
            info: BackboneInfo {
                name: name.into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels,
                level_strides: [4, 4, 8, 16, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            stem_norm,
            blocks,
            transitions,
            final_norm,
            classifier,
        })
    }
}

impl Backbone for DenseNet {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let h = relu(self.stem_norm.forward(self.stem.forward(input)));
        let mut h = hook.level(0, max_pool(h, 3, 2, 1));
        for (b, layers) in self.blocks.iter().enumerate() {
            for layer in layers {
                let new = layer.forward(h.clone());
                h = Tensor::cat(vec![h, new], 1);
            }
            if let Some(transition) = self.transitions.get(b) {
                h = hook.level(b + 1, h);
                let reduced = transition.conv.forward(relu(transition.norm.forward(h)));
                h = avg_pool2d(reduced, [2, 2], [2, 2], [0, 0], false, false);
            }
        }
        let h = hook.level(4, relu(self.final_norm.forward(h)));
        self.classifier.forward(global_average(h))
    }
}

/// torchvision's DenseNets: name, shape and the standard file's name.
const DENSENETS: [(&str, Shape, &str); 4] = [
    (
        "densenet121",
        Shape {
            initial: 64,
            growth: 32,
            blocks: [6, 12, 24, 16],
        },
        "densenet121-a639ec97.pth",
    ),
    (
        "densenet161",
        Shape {
            initial: 96,
            growth: 48,
            blocks: [6, 12, 36, 24],
        },
        "densenet161-8d451a50.pth",
    ),
    (
        "densenet169",
        Shape {
            initial: 64,
            growth: 32,
            blocks: [6, 12, 32, 32],
        },
        "densenet169-b2777c0a.pth",
    ),
    (
        "densenet201",
        Shape {
            initial: 64,
            growth: 32,
            blocks: [6, 12, 48, 32],
        },
        "densenet201-c1103571.pth",
    ),
];

/// The registry entry point of DenseNet number `INDEX` of [`DENSENETS`].
fn build_densenet<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, shape, file) = DENSENETS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| DenseNet::load(name, shape, sd, classes))
}

super::register_family! {
    build_densenet;
    0 => "densenet121", "torchvision DenseNet-121; levels: stem max-pool, dense blocks 1-3, final BatchNorm's ReLU";
    1 => "densenet161", "torchvision DenseNet-161; levels: stem max-pool, dense blocks 1-3, final BatchNorm's ReLU";
    2 => "densenet169", "torchvision DenseNet-169; levels: stem max-pool, dense blocks 1-3, final BatchNorm's ReLU";
    3 => "densenet201", "torchvision DenseNet-201; levels: stem max-pool, dense blocks 1-3, final BatchNorm's ReLU";
}

#[cfg(test)]
mod tests {
    use super::current_key;

    #[test]
    fn old_dense_layer_keys_read_as_current_ones() {
        assert_eq!(
            current_key("features.denseblock1.denselayer1.norm.1.running_var").as_deref(),
            Some("features.denseblock1.denselayer1.norm1.running_var")
        );
        assert_eq!(
            current_key("features.denseblock4.denselayer16.conv.2.weight").as_deref(),
            Some("features.denseblock4.denselayer16.conv2.weight")
        );
        assert_eq!(current_key("features.denseblock1.denselayer1.norm1.weight"), None);
        assert_eq!(current_key("features.transition1.norm.weight"), None);
    }
}
