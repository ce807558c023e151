//! Compares the input gradients of burn's cubecl kernels (Wgpu backend) with Flex's for the
//! convolution, pooling and transformer operations nas's backbones use; exits with status 1 when
//! any differs by 1e-2 or more (relative, Euclidean).
//! Found in session 12: a 1x1 convolution with a stride above one gets an all-zero input
//! gradient (nas works around it in `Conv2d::convolve`, the `Subsampled1x1` case below).
use burn::backend::wgpu::WgpuDevice;
use burn::backend::{flex::FlexDevice, Autodiff, Flex, Wgpu};
use burn::tensor::activation::{gelu, relu};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::module::{adaptive_avg_pool2d, attention, conv2d, max_pool2d};
use burn::tensor::ops::{AttentionModuleOptions, ConvOptions};
use burn::tensor::{Device, Tensor, TensorData};

/// Values in [-1, 1) from a seeded linear congruential sequence.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// One operation whose input gradient is compared.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// An ordinary convolution with bias.
    Conv { cin: usize, cout: usize, k: usize, s: usize, p: usize },
    /// A depthwise convolution.
    Depthwise { c: usize, k: usize, s: usize, p: usize },
    /// nas's stand-in for a stride-2 1x1 convolution: every second row and column, then stride 1.
    Subsampled1x1 { cin: usize, cout: usize },
    /// Max pooling 3x3, stride 2, padding 1 (the ResNet stem's).
    MaxPool,
    /// Global average pooling.
    AvgPool,
    /// A 3x3 convolution, ReLU and max pooling in a row.
    ReluConvPool,
    /// Fused attention (ViT's), queries, keys and values all computed from the input.
    Attention,
    /// Exact GELU (ViT's MLP).
    Gelu,
    /// Layer normalisation over the last dimension, as nas's `LayerNorm` computes it.
    LayerNorm,
    /// ReLU6 (EfficientNet-Lite0's), a clamp to [0, 6] of the input times four.
    Relu6,
    /// A token-wise matrix product with a `(last, 96)` weight.
    Matmul,
}

impl Op {
    /// The operation Flex runs for comparison: the stand-in's original for `Subsampled1x1`.
    fn reference(self) -> Op {
        match self {
            Op::Subsampled1x1 { cin, cout } => Op::Conv { cin, cout, k: 1, s: 2, p: 0 },
            other => other,
        }
    }
}

/// The input gradient of a fixed weighted sum of `op`'s output on an input of `dims`.
fn gradient<B: AutodiffBackend>(op: Op, dims: [usize; 4], device: &Device<B>) -> Option<Vec<f32>> {
    let x = Tensor::<B, 4>::from_data(TensorData::new(values(dims.iter().product(), 1), dims), device).require_grad();
    let tensor = |n: usize, seed: u64, shape: [usize; 4]| Tensor::<B, 4>::from_data(TensorData::new(values(n, seed), shape), device);
    let bias = |n: usize| Tensor::<B, 1>::from_data(TensorData::new(values(n, 3), [n]), device);
    let y = match op {
        Op::Conv { cin, cout, k, s, p } => conv2d(
            x.clone(),
            tensor(cout * cin * k * k, 2, [cout, cin, k, k]),
            Some(bias(cout)),
            ConvOptions::new([s, s], [p, p], [1, 1], 1),
        ),
        Op::Depthwise { c, k, s, p } => conv2d(x.clone(), tensor(c * k * k, 2, [c, 1, k, k]), None, ConvOptions::new([s, s], [p, p], [1, 1], c)),
        Op::Subsampled1x1 { cin, cout } => {
            let [b, c, h, w] = dims;
            let kept = x.clone().reshape([b, c, h / 2, 2, w / 2, 2]).narrow(3, 0, 1).narrow(5, 0, 1).reshape([b, c, h / 2, w / 2]);
            conv2d(kept, tensor(cout * cin, 2, [cout, cin, 1, 1]), Some(bias(cout)), ConvOptions::new([1, 1], [0, 0], [1, 1], 1))
        }
        Op::MaxPool => max_pool2d(x.clone(), [3, 3], [2, 2], [1, 1], [1, 1], false),
        Op::AvgPool => adaptive_avg_pool2d(x.clone(), [1, 1]),
        Op::ReluConvPool => {
            let c = dims[1];
            let h = relu(conv2d(x.clone(), tensor(c * c * 9, 4, [c, c, 3, 3]), None, ConvOptions::new([1, 1], [1, 1], [1, 1], 1)));
            max_pool2d(h, [3, 3], [2, 2], [1, 1], [1, 1], false)
        }
        Op::Attention => attention(x.clone(), x.clone() * 0.5, x.clone().tanh(), None, None, AttentionModuleOptions::default()),
        Op::Gelu => gelu(x.clone() * 3.0),
        Op::LayerNorm => {
            let centred = x.clone() - x.clone().mean_dim(3);
            let variance = centred.clone().powi_scalar(2).mean_dim(3);
            centred / (variance + 1e-6).sqrt()
        }
        Op::Relu6 => (x.clone() * 4.0).clamp(0.0, 6.0),
        Op::Matmul => {
            let [b, c, h, w] = dims;
            let weight = Tensor::<B, 2>::from_data(TensorData::new(values(w * 96, 6), [w, 96]), device);
            x.clone().reshape([b * c * h, w]).matmul(weight).reshape([b, c, h, 96])
        }
    };
    let out = y.dims();
    let loss = (y * tensor(out.iter().product(), 5, out)).sum();
    let grads = loss.backward();
    x.grad(&grads)?.into_data().into_vec::<f32>().ok()
}

fn main() {
    let cases: [(Op, [usize; 4]); 24] = [
        (Op::Conv { cin: 3, cout: 64, k: 7, s: 2, p: 3 }, [1, 3, 224, 224]),
        (Op::Conv { cin: 64, cout: 64, k: 3, s: 1, p: 1 }, [1, 64, 56, 56]),
        (Op::Conv { cin: 64, cout: 128, k: 3, s: 2, p: 1 }, [1, 64, 56, 56]),
        (Op::Conv { cin: 64, cout: 128, k: 1, s: 2, p: 0 }, [1, 64, 56, 56]),
        (Op::Conv { cin: 8, cout: 16, k: 1, s: 2, p: 0 }, [2, 8, 9, 9]),
        (Op::Conv { cin: 256, cout: 512, k: 3, s: 2, p: 1 }, [1, 256, 14, 14]),
        (Op::Conv { cin: 64, cout: 128, k: 1, s: 1, p: 0 }, [1, 64, 56, 56]),
        (Op::Conv { cin: 8, cout: 16, k: 2, s: 2, p: 0 }, [1, 8, 16, 16]),
        (Op::Conv { cin: 3, cout: 32, k: 16, s: 16, p: 0 }, [1, 3, 224, 224]),
        (Op::Conv { cin: 3, cout: 32, k: 3, s: 2, p: 1 }, [1, 3, 224, 224]),
        (Op::Depthwise { c: 32, k: 3, s: 2, p: 1 }, [1, 32, 112, 112]),
        (Op::Depthwise { c: 32, k: 5, s: 2, p: 2 }, [1, 32, 56, 56]),
        (Op::Depthwise { c: 32, k: 3, s: 1, p: 1 }, [1, 32, 56, 56]),
        (Op::MaxPool, [1, 64, 112, 112]),
        (Op::MaxPool, [2, 8, 17, 13]),
        (Op::AvgPool, [1, 512, 7, 7]),
        (Op::AvgPool, [2, 64, 9, 9]),
        (Op::Subsampled1x1 { cin: 64, cout: 128 }, [1, 64, 56, 56]),
        (Op::ReluConvPool, [1, 16, 30, 30]),
        (Op::Attention, [1, 4, 50, 64]),
        (Op::Gelu, [1, 1, 50, 3072]),
        (Op::LayerNorm, [1, 1, 50, 768]),
        (Op::Relu6, [1, 32, 28, 28]),
        (Op::Matmul, [1, 1, 197, 768]),
    ];
    let mut differing = 0;
    for (op, dims) in cases {
        let (Some(flex), Some(wgpu)) = (
            gradient::<Autodiff<Flex>>(op.reference(), dims, &FlexDevice),
            gradient::<Autodiff<Wgpu>>(op, dims, &WgpuDevice::default()),
        ) else {
            println!("{op:?} {dims:?}: no gradient");
            differing += 1;
            continue;
        };
        let norm = flex.iter().map(|v| v * v).sum::<f32>().sqrt();
        let difference = flex.iter().zip(&wgpu).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt() / norm.max(f32::MIN_POSITIVE);
        // Under 1e-2 is precision (another erf approximation, say), not a broken kernel.
        let verdict = match difference {
            d if d < 1e-4 => "agrees",
            d if d < 1e-2 => "close",
            _ => "DIFFERS",
        };
        differing += usize::from(difference >= 1e-2);
        println!("{verdict:8} {difference:.1e}  {op:?} {dims:?}");
    }
    std::process::exit(i32::from(differing > 0));
}
