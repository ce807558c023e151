//! Input gradients of convolutions and max pooling against their definitions: for a convolution
//! `y[o, oy, ox] = sum w[o, c, ky, kx] x[c, oy*s + ky - top, ox*s + kx - left]`, the gradient
//! `dL/dx[c, y, x]` sums `w[o, c, ky, kx] dL/dy[o, oy, ox]` over every output that reads `x[c, y, x]`.

mod common;

use common::{depthwise, geometry, random};
use nas_conv::{max_pool2d_input_gradient, ConvError, ConvGeometry, InputGradientPlan, PoolGeometry};

/// The definition above, in f64, for ordinary, grouped and depthwise convolutions.
fn direct(g: &ConvGeometry, weight: &[f32], grad_output: &[f32], batch: usize, h: usize, w: usize) -> Result<Vec<f64>, ConvError> {
    let (oh, ow) = g.output_size(h, w)?;
    let k = g.kernel;
    let [top, left, _, _] = g.padding;
    let per_group = g.in_channels / g.groups;
    let outs_per_group = g.out_channels / g.groups;
    let mut grad = vec![0f64; batch * g.in_channels * h * w];
    for b in 0..batch {
        for o in 0..g.out_channels {
            let group = o / outs_per_group;
            for oy in 0..oh {
                for ox in 0..ow {
                    let dy = grad_output[((b * g.out_channels + o) * oh + oy) * ow + ox] as f64;
                    for c in group * per_group..(group + 1) * per_group {
                        for ky in 0..k {
                            for kx in 0..k {
                                let y = (oy * g.stride + ky) as isize - top as isize;
                                let x = (ox * g.stride + kx) as isize - left as isize;
                                if y < 0 || x < 0 || y as usize >= h || x as usize >= w {
                                    continue;
                                }
                                let weight_at = ((o * per_group + c - group * per_group) * k + ky) * k + kx;
                                grad[((b * g.in_channels + c) * h + y as usize) * w + x as usize] += weight[weight_at] as f64 * dy;
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(grad)
}

fn check(g: ConvGeometry, batch: usize, h: usize, w: usize) -> Result<(), ConvError> {
    let weight = random(g.weight_len(), 11);
    let (oh, ow) = g.output_size(h, w)?;
    let grad_output = random(batch * g.out_channels * oh * ow, 12);
    let plan = InputGradientPlan::new(g, &weight)?;
    let grad = plan.run(&grad_output, batch, h, w)?;
    let reference = direct(&g, &weight, &grad_output, batch, h, w)?;
    assert_eq!(grad.len(), reference.len());
    let scale = reference.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-12);
    let err = grad.iter().zip(&reference).fold(0f64, |m, (a, e)| m.max((*a as f64 - e).abs())) / scale;
    assert!(err < 2e-6, "{g:?} on {batch}x{h}x{w}: relative error {err}");
    Ok(())
}

#[test]
fn stride_one_gradients_match_the_definition() -> Result<(), ConvError> {
    // Winograd on the mirrored convolution (ResNet and VGG 3x3 layers).
    check(geometry(32, 64, 3, 1, [1; 4]), 2, 14, 14)?;
    check(geometry(24, 16, 3, 1, [0, 1, 2, 1]), 1, 9, 7)?;
    // 1x1 (bottleneck), few output channels (im2col on the mirrored side), larger kernels.
    check(geometry(48, 40, 1, 1, [0; 4]), 3, 9, 7)?;
    check(geometry(8, 3, 3, 1, [1; 4]), 1, 30, 31)?;
    check(geometry(3, 5, 5, 1, [2; 4]), 2, 11, 13)?;
    // Padding as large as the kernel: nothing to mirror, so the scatter path.
    check(geometry(4, 6, 3, 1, [3; 4]), 1, 6, 5)?;
    Ok(())
}

#[test]
fn strided_gradients_match_the_definition() -> Result<(), ConvError> {
    // ResNet's stem, 3x3 stride 2 and 1x1 stride 2 shortcuts, on odd sizes that leave the last
    // row or column unread.
    check(geometry(3, 16, 7, 2, [3; 4]), 2, 40, 37)?;
    check(geometry(24, 16, 3, 2, [1; 4]), 2, 15, 14)?;
    check(geometry(24, 32, 1, 2, [0; 4]), 3, 15, 14)?;
    // Asymmetric "same" padding and many blocks of rows in one image.
    check(geometry(8, 8, 5, 2, [1, 1, 2, 2]), 1, 17, 16)?;
    check(geometry(2, 3, 3, 2, [1; 4]), 1, 301, 150)?;
    Ok(())
}

#[test]
fn depthwise_gradients_match_the_definition() -> Result<(), ConvError> {
    check(depthwise(32, 3, 1, [1; 4]), 2, 28, 28)?;
    check(depthwise(8, 5, 1, [2; 4]), 3, 7, 9)?;
    check(depthwise(24, 3, 2, [0, 0, 1, 1]), 2, 15, 16)?;
    check(depthwise(8, 5, 2, [1, 1, 2, 2]), 1, 14, 13)?;
    Ok(())
}

#[test]
fn gradients_do_not_depend_on_the_thread_count() -> Result<(), Box<dyn std::error::Error>> {
    for g in [geometry(16, 32, 3, 2, [1; 4]), geometry(32, 16, 3, 1, [1; 4])] {
        let weight = random(g.weight_len(), 4);
        let (oh, ow) = g.output_size(28, 28)?;
        let grad_output = random(3 * g.out_channels * oh * ow, 5);
        let plan = InputGradientPlan::new(g, &weight)?;
        let run_on = |threads: usize| -> Result<Vec<f32>, Box<dyn std::error::Error>> {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
            Ok(pool.install(|| plan.run(&grad_output, 3, 28, 28))?)
        };
        assert_eq!(run_on(1)?, run_on(4)?, "{g:?}");
    }
    Ok(())
}

#[test]
fn grouped_gradients_match_the_definition() -> Result<(), ConvError> {
    let grouped = |groups, g: ConvGeometry| ConvGeometry { groups, ..g };
    check(grouped(32, geometry(128, 128, 3, 1, [1; 4])), 1, 9, 10)?;
    check(grouped(32, geometry(64, 64, 3, 2, [1; 4])), 2, 11, 8)?;
    check(grouped(2, geometry(8, 6, 1, 1, [0; 4])), 3, 5, 7)?;
    check(grouped(4, geometry(4, 8, 3, 1, [1, 0, 1, 2])), 1, 6, 6)
}

#[test]
fn bad_shapes_are_refused_with_what_was_expected() -> Result<(), ConvError> {
    let g = geometry(4, 2, 3, 2, [1; 4]);
    match InputGradientPlan::new(g, &[0.0; 10]) {
        Err(ConvError::Length {
            what, expected, actual, ..
        }) => assert_eq!((what, expected, actual), ("weight", 72, 10)),
        other => panic!("expected a length error, got {:?}", other.err()),
    }
    let plan = InputGradientPlan::new(g, &[0.0; 72])?;
    match plan.run(&[0.0; 10], 1, 6, 6) {
        Err(err) => assert!(err.to_string().contains("(1, 2, 3, 3)"), "{err}"),
        Ok(_) => panic!("a short output gradient was accepted"),
    }
    Ok(())
}

/// The definition: each output's gradient goes to the first position of its window holding the
/// window's maximum (padding never wins).
fn direct_pool_gradient(input: &[f32], grad_output: &[f32], planes: usize, h: usize, w: usize, pool: PoolGeometry) -> Vec<f32> {
    let out_h = (h + 2 * pool.padding - pool.kernel) / pool.stride + 1;
    let out_w = (w + 2 * pool.padding - pool.kernel) / pool.stride + 1;
    let mut grad = vec![0f32; input.len()];
    for p in 0..planes {
        for oy in 0..out_h {
            for ox in 0..out_w {
                let mut best: Option<(f32, usize)> = None;
                for ky in 0..pool.kernel {
                    for kx in 0..pool.kernel {
                        let y = (oy * pool.stride + ky) as isize - pool.padding as isize;
                        let x = (ox * pool.stride + kx) as isize - pool.padding as isize;
                        if y < 0 || x < 0 || y as usize >= h || x as usize >= w {
                            continue;
                        }
                        let at = (p * h + y as usize) * w + x as usize;
                        if best.is_none_or(|(v, _)| input[at] > v) {
                            best = Some((input[at], at));
                        }
                    }
                }
                // Every window overlaps the image (padding is at most half the window).
                if let Some((_, at)) = best {
                    grad[at] += grad_output[(p * out_h + oy) * out_w + ox];
                }
            }
        }
    }
    grad
}

#[test]
fn max_pool_gradients_match_the_definition() -> Result<(), ConvError> {
    let cases = [
        // ResNet's stem pool (overlapping windows, padding) and VGG's 2x2 pools, odd sizes.
        (
            2,
            3,
            13,
            11,
            PoolGeometry {
                kernel: 3,
                stride: 2,
                padding: 1,
            },
        ),
        (
            1,
            4,
            8,
            9,
            PoolGeometry {
                kernel: 2,
                stride: 2,
                padding: 0,
            },
        ),
        (
            3,
            2,
            7,
            7,
            PoolGeometry {
                kernel: 3,
                stride: 1,
                padding: 1,
            },
        ),
    ];
    for (batch, channels, h, w, pool) in cases {
        let len = batch * channels * h * w;
        // Rounded to a few levels so that windows hold ties, which go to their first position.
        let input: Vec<f32> = random(len, 21).iter().map(|v| (v * 3.0).round()).collect();
        let out_h = (h + 2 * pool.padding - pool.kernel) / pool.stride + 1;
        let out_w = (w + 2 * pool.padding - pool.kernel) / pool.stride + 1;
        let grad_output = random(batch * channels * out_h * out_w, 22);
        let grad = max_pool2d_input_gradient(&input, &grad_output, batch, channels, h, w, pool)?;
        let reference = direct_pool_gradient(&input, &grad_output, batch * channels, h, w, pool);
        for (a, e) in grad.iter().zip(&reference) {
            assert!((a - e).abs() <= 1e-6, "{pool:?}: {a} vs {e}");
        }
    }
    let pool = PoolGeometry {
        kernel: 2,
        stride: 2,
        padding: 0,
    };
    match max_pool2d_input_gradient(&[0.0; 16], &[0.0; 3], 1, 1, 4, 4, pool) {
        Err(err) => assert!(err.to_string().contains("(1, 1, 2, 2)"), "{err}"),
        Ok(_) => panic!("a short output gradient was accepted"),
    }
    Ok(())
}
