//! Max pooling against a direct definition with PyTorch's semantics (padding never wins,
//! `ceil_mode=False`, NaN propagates).

use nas_conv::{max_pool2d, PoolGeometry};

fn direct(input: &[f32], batch_channels: usize, h: usize, w: usize, pool: PoolGeometry) -> Vec<f32> {
    let out_h = (h + 2 * pool.padding - pool.kernel) / pool.stride + 1;
    let out_w = (w + 2 * pool.padding - pool.kernel) / pool.stride + 1;
    let mut out = Vec::new();
    for p in 0..batch_channels {
        for oy in 0..out_h {
            for ox in 0..out_w {
                let mut best = f32::NEG_INFINITY;
                for ky in 0..pool.kernel {
                    for kx in 0..pool.kernel {
                        let y = (oy * pool.stride + ky) as isize - pool.padding as isize;
                        let x = (ox * pool.stride + kx) as isize - pool.padding as isize;
                        if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
                            best = best.max(input[(p * h + y as usize) * w + x as usize]);
                        }
                    }
                }
                out.push(best);
            }
        }
    }
    out
}

fn values(len: usize) -> Vec<f32> {
    // Negative values too, so that a zero-padded implementation would be caught.
    (0..len).map(|i| ((i * 7919 % 1009) as f32) - 600.0).collect()
}

#[test]
fn max_pool_matches_direct_definition() {
    let cases = [
        (
            2,
            3,
            13,
            12,
            PoolGeometry {
                kernel: 3,
                stride: 2,
                padding: 1,
            },
        ),
        (
            1,
            2,
            7,
            9,
            PoolGeometry {
                kernel: 2,
                stride: 2,
                padding: 0,
            },
        ),
        (
            1,
            1,
            5,
            5,
            PoolGeometry {
                kernel: 3,
                stride: 1,
                padding: 1,
            },
        ),
    ];
    for (batch, channels, h, w, pool) in cases {
        let input = values(batch * channels * h * w);
        let out = max_pool2d(&input, batch, channels, h, w, pool).expect("pool");
        assert_eq!(out.data, direct(&input, batch * channels, h, w, pool), "{pool:?} on {h}x{w}");
        assert_eq!(
            (out.height, out.width),
            (
                (h + 2 * pool.padding - pool.kernel) / pool.stride + 1,
                (w + 2 * pool.padding - pool.kernel) / pool.stride + 1
            )
        );
    }
}

#[test]
fn nan_propagates_and_bad_geometry_is_refused() {
    let mut input = vec![1.0f32; 16];
    input[5] = f32::NAN;
    let pool = PoolGeometry {
        kernel: 2,
        stride: 2,
        padding: 0,
    };
    let out = max_pool2d(&input, 1, 1, 4, 4, pool).expect("pool");
    assert!(out.data[0].is_nan() && out.data[1..].iter().all(|v| *v == 1.0), "{:?}", out.data);

    let err = max_pool2d(
        &input,
        1,
        1,
        4,
        4,
        PoolGeometry {
            kernel: 2,
            stride: 2,
            padding: 2,
        },
    )
    .expect_err("padding > window / 2");
    assert!(err.to_string().contains("padding 2"), "{err}");
    let err = max_pool2d(
        &input,
        1,
        1,
        4,
        4,
        PoolGeometry {
            kernel: 7,
            stride: 1,
            padding: 0,
        },
    )
    .expect_err("window larger than input");
    assert!(err.to_string().contains("smaller than the 7x7"), "{err}");
    let err = max_pool2d(&input, 1, 2, 4, 4, pool).expect_err("short input");
    assert!(err.to_string().contains("(1, 2, 4, 4)"), "{err}");
}
