//! Every algorithm against a direct (six nested loops) convolution on random data, for the
//! geometries of the paper's backbones and awkward ones (odd sizes, asymmetric padding, batches).

mod common;

use common::{depthwise, geometry, random};
use nas_conv::{Activation, Algorithm, Conv2dPlan, ConvError, ConvGeometry};

/// PyTorch's definition of a (grouped) convolution, computed in f64.
fn direct(g: &ConvGeometry, weight: &[f32], bias: &[f32], input: &[f32], batch: usize, h: usize, w: usize) -> Vec<f32> {
    let (oh, ow) = g.output_size(h, w).expect("valid geometry");
    let k = g.kernel;
    let [top, left, _, _] = g.padding;
    let mut out = vec![0f32; batch * g.out_channels * oh * ow];
    for b in 0..batch {
        for o in 0..g.out_channels {
            for y in 0..oh {
                for x in 0..ow {
                    let mut sum = bias[o] as f64;
                    let per_group = g.in_channels / g.groups;
                    let group = o / (g.out_channels / g.groups);
                    for c in group * per_group..(group + 1) * per_group {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (y * g.stride + ky) as isize - top as isize;
                                let ix = (x * g.stride + kx) as isize - left as isize;
                                if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w {
                                    continue;
                                }
                                let v = input[((b * g.in_channels + c) * h + iy as usize) * w + ix as usize] as f64;
                                sum += v * weight[((o * per_group + c - group * per_group) * k + ky) * k + kx] as f64;
                            }
                        }
                    }
                    out[((b * g.out_channels + o) * oh + y) * ow + x] = sum as f32;
                }
            }
        }
    }
    out
}

/// Largest difference relative to the largest reference magnitude.
fn relative_error(actual: &[f32], expected: &[f32]) -> f32 {
    assert_eq!(actual.len(), expected.len());
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    actual.iter().zip(expected).fold(0f32, |m, (a, e)| m.max((a - e).abs())) / scale
}

fn check(g: ConvGeometry, batch: usize, h: usize, w: usize, expected_algorithm: Algorithm) {
    let weight = random(g.weight_len(), 1);
    let bias = random(g.out_channels, 2);
    let input = random(batch * g.in_channels * h * w, 3);
    let plan = Conv2dPlan::new(g, &weight, Some(&bias)).expect("plan");
    assert_eq!(plan.algorithm(), expected_algorithm, "{g:?}");
    let reference = direct(&g, &weight, &bias, &input, batch, h, w);
    let out = plan.run(&input, batch, h, w, Activation::Identity).expect("run");
    let err = relative_error(&out.data, &reference);
    assert!(err < 2e-6, "{g:?} on {batch}x{h}x{w}: relative error {err}");

    let rectified = plan.run(&input, batch, h, w, Activation::Relu).expect("run with relu");
    let expected: Vec<f32> = out.data.iter().map(|v| v.max(0.0)).collect();
    assert_eq!(rectified.data, expected, "ReLU is applied after the bias");
    // Scaled so that some outputs exceed 6.
    let scaled: Vec<f32> = input.iter().map(|v| v * 40.0).collect();
    let unclamped = plan.run(&scaled, batch, h, w, Activation::Identity).expect("run scaled");
    assert!(unclamped.data.iter().any(|v| *v > 6.0) && unclamped.data.iter().any(|v| *v < 0.0));
    let clamped = plan.run(&scaled, batch, h, w, Activation::Relu6).expect("run with relu6");
    let expected: Vec<f32> = unclamped.data.iter().map(|v| v.clamp(0.0, 6.0)).collect();
    assert_eq!(clamped.data, expected, "ReLU6 clamps to [0, 6] after the bias");
}

#[test]
fn winograd_matches_direct_convolution() {
    check(geometry(64, 64, 3, 1, [1; 4]), 1, 14, 14, Algorithm::Winograd);
    // Odd sizes leave half-empty tiles at the bottom and right edges.
    check(geometry(32, 24, 3, 1, [1; 4]), 2, 7, 9, Algorithm::Winograd);
    // No padding, asymmetric padding, and several blocks of rows in one image.
    check(geometry(16, 8, 3, 1, [0; 4]), 1, 11, 6, Algorithm::Winograd);
    check(geometry(16, 8, 3, 1, [0, 1, 2, 1]), 3, 5, 8, Algorithm::Winograd);
    check(geometry(16, 4, 3, 1, [1; 4]), 1, 75, 130, Algorithm::Winograd);
}

#[test]
fn im2col_matches_direct_convolution() {
    // ResNet's stem: 7x7, stride 2, 3 input channels.
    check(geometry(3, 16, 7, 2, [3; 4]), 1, 40, 38, Algorithm::Im2col);
    // Downsampling 3x3 stride 2 and 1x1 stride 2 shortcuts.
    check(geometry(24, 16, 3, 2, [1; 4]), 2, 15, 14, Algorithm::Im2col);
    check(geometry(24, 16, 1, 2, [0; 4]), 2, 15, 14, Algorithm::Im2col);
    // 1x1 stride 1 reads the input in place; 3x3 on few channels stays im2col.
    check(geometry(40, 48, 1, 1, [0; 4]), 3, 9, 7, Algorithm::Im2col);
    check(geometry(3, 8, 3, 1, [1; 4]), 1, 30, 31, Algorithm::Im2col);
    // Asymmetric ("same") padding as TensorFlow-trained EfficientNets use, and many row blocks.
    check(geometry(8, 8, 5, 2, [1, 1, 2, 2]), 1, 17, 16, Algorithm::Im2col);
    check(geometry(2, 3, 5, 1, [2; 4]), 1, 200, 150, Algorithm::Im2col);
}

#[test]
fn depthwise_matches_direct_convolution() {
    // EfficientNet-Lite0's depthwise layers: 3x3 and 5x5, stride 1 and 2, "same" padding.
    check(depthwise(32, 3, 1, [1; 4]), 1, 28, 28, Algorithm::Depthwise);
    check(depthwise(24, 3, 2, [0, 0, 1, 1]), 2, 15, 16, Algorithm::Depthwise);
    check(depthwise(8, 5, 2, [1, 1, 2, 2]), 1, 14, 13, Algorithm::Depthwise);
    check(depthwise(8, 5, 1, [2; 4]), 3, 7, 9, Algorithm::Depthwise);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let g = geometry(64, 32, 3, 1, [1; 4]);
    let weight = random(g.weight_len(), 4);
    let input = random(2 * 64 * 28 * 28, 5);
    let plan = Conv2dPlan::new(g, &weight, None).expect("plan");
    let run_on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        pool.install(|| plan.run(&input, 2, 28, 28, Activation::Identity).expect("run"))
    };
    assert_eq!(run_on(1), run_on(3));
}

#[test]
fn bad_shapes_are_refused_with_what_was_expected() {
    let g = geometry(4, 2, 3, 1, [1; 4]);
    let short = Conv2dPlan::new(g, &[0.0; 10], None);
    match short {
        Err(ConvError::Length {
            what, expected, actual, ..
        }) => assert_eq!((what, expected, actual), ("weight", 72, 10)),
        other => panic!("expected a length error, got {:?}", other.err()),
    }
    let plan = Conv2dPlan::new(g, &[0.0; 72], Some(&[0.0; 2])).expect("plan");
    let err = plan.run(&[0.0; 10], 1, 3, 3, Activation::Identity).expect_err("short input");
    assert!(err.to_string().contains("(1, 4, 3, 3)"), "{err}");
    let tiny = Conv2dPlan::new(geometry(1, 1, 7, 1, [0; 4]), &[0.0; 49], None).expect("plan");
    let err = tiny
        .run(&[0.0; 9], 1, 3, 3, Activation::Identity)
        .expect_err("input smaller than kernel");
    assert!(err.to_string().contains("smaller than the 7x7 kernel"), "{err}");
    let grouped = ConvGeometry {
        groups: 3,
        ..geometry(4, 6, 3, 1, [1; 4])
    };
    let err = Conv2dPlan::new(grouped, &[0.0; 54], None)
        .err()
        .expect("groups 3 of 4 -> 6 refused");
    assert!(err.to_string().contains("groups 3") && err.to_string().contains("divides"), "{err}");
}

#[test]
fn grouped_matches_direct_convolution() {
    let grouped = |groups, g: ConvGeometry| ConvGeometry { groups, ..g };
    // ResNeXt's 3x3 convolutions (32 groups), stride 1 (Winograd per group) and 2.
    check(grouped(32, geometry(128, 128, 3, 1, [1; 4])), 1, 9, 10, Algorithm::Grouped);
    check(grouped(32, geometry(64, 64, 3, 2, [1; 4])), 2, 11, 8, Algorithm::Grouped);
    // Few groups, unequal channel counts, 1x1 and a channel multiplier of 2 per group.
    check(grouped(2, geometry(8, 6, 1, 1, [0; 4])), 3, 5, 7, Algorithm::Grouped);
    check(grouped(4, geometry(4, 8, 3, 1, [1, 0, 1, 2])), 1, 6, 6, Algorithm::Grouped);
}
