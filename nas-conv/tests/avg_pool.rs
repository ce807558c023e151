//! Average pooling against a direct definition with PyTorch's defaults: the zero padding counts
//! in every window's average (`count_include_pad=True`), `ceil_mode=False`.

use nas_conv::{avg_pool2d, PoolGeometry};

fn direct(input: &[f32], planes: usize, h: usize, w: usize, pool: PoolGeometry) -> Vec<f64> {
    let out_h = (h + 2 * pool.padding - pool.kernel) / pool.stride + 1;
    let out_w = (w + 2 * pool.padding - pool.kernel) / pool.stride + 1;
    let mut out = Vec::new();
    for p in 0..planes {
        for oy in 0..out_h {
            for ox in 0..out_w {
                let mut sum = 0f64;
                for ky in 0..pool.kernel {
                    for kx in 0..pool.kernel {
                        let y = (oy * pool.stride + ky) as isize - pool.padding as isize;
                        let x = (ox * pool.stride + kx) as isize - pool.padding as isize;
                        if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
                            sum += f64::from(input[(p * h + y as usize) * w + x as usize]);
                        }
                    }
                }
                out.push(sum / (pool.kernel * pool.kernel) as f64);
            }
        }
    }
    out
}

#[test]
fn avg_pool_matches_direct_definition() {
    for (batch, channels, h, w, kernel, stride, padding) in [(2, 3, 13, 12, 3, 1, 1), (1, 2, 7, 9, 3, 2, 1), (1, 4, 6, 5, 2, 2, 0)] {
        let pool = PoolGeometry { kernel, stride, padding };
        let input: Vec<f32> = (0..batch * channels * h * w)
            .map(|i| ((i * 7919 % 1009) as f32) / 100.0 - 6.0)
            .collect();
        let ours = avg_pool2d(&input, batch, channels, h, w, pool).expect("valid pooling");
        let expected = direct(&input, batch * channels, h, w, pool);
        assert_eq!(ours.data.len(), expected.len(), "{pool:?}");
        let worst = ours
            .data
            .iter()
            .zip(&expected)
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-5, "{pool:?}: worst difference {worst}");
    }
    let bad = PoolGeometry {
        kernel: 3,
        stride: 1,
        padding: 2,
    };
    assert!(avg_pool2d(&[0.0; 16], 1, 1, 4, 4, bad).is_err(), "padding beyond half the window");
}
