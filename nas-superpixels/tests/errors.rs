//! Bad input gives a descriptive [`SuperpixelError`], never a panic.

use nas_superpixels::{adjusted_rand_index, felzenszwalb, slic, FelzenszwalbParams, SlicParams, SuperpixelError};
use ndarray::{Array2, Array3};

fn image(h: usize, w: usize, c: usize) -> Array3<f32> {
    Array3::from_shape_fn((h, w, c), |(y, x, c)| ((y * 7 + x * 3 + c) % 11) as f32 / 10.0)
}

fn both(img: &Array3<f32>) -> [Result<Array2<u32>, SuperpixelError>; 2] {
    [
        slic(img.view(), &SlicParams::default()),
        felzenszwalb(img.view(), &FelzenszwalbParams::default()),
    ]
}

#[test]
fn empty_images_are_rejected() {
    for (h, w) in [(0, 5), (5, 0), (0, 0)] {
        for result in both(&image(h, w, 3)) {
            let err = result.expect_err("empty image accepted");
            assert!(matches!(err, SuperpixelError::EmptyImage { .. }), "{err}");
            assert!(err.to_string().contains("empty"), "{err}");
        }
    }
}

#[test]
fn non_rgb_images_are_rejected() {
    for c in [1, 2, 4] {
        for result in both(&image(4, 4, c)) {
            let err = result.expect_err("non-RGB image accepted");
            assert_eq!(
                err,
                SuperpixelError::WrongChannels {
                    height: 4,
                    width: 4,
                    channels: c
                }
            );
            assert!(err.to_string().contains("expected 3"), "{err}");
        }
    }
}

#[test]
fn non_finite_values_are_rejected_with_their_position() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut img = image(6, 5, 3);
        img[[2, 3, 1]] = bad;
        for result in both(&img) {
            let err = result.expect_err("non-finite value accepted");
            assert!(
                matches!(
                    err,
                    SuperpixelError::NonFiniteValue {
                        row: 2,
                        column: 3,
                        channel: 1,
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains("row 2, column 3, channel 1"), "{err}");
        }
    }
}

fn slic_err(params: SlicParams) -> String {
    let err = slic(image(8, 8, 3).view(), &params).expect_err("bad parameter accepted");
    assert!(matches!(err, SuperpixelError::InvalidParameter { .. }), "{err}");
    err.to_string()
}

#[test]
fn bad_slic_parameters_are_named() {
    let d = SlicParams::default;
    let cases = [
        (SlicParams { n_segments: 0, ..d() }, "`n_segments` is 0"),
        (SlicParams { compactness: 0.0, ..d() }, "`compactness` is 0"),
        (SlicParams { compactness: -1.0, ..d() }, "`compactness` is -1"),
        (
            SlicParams {
                compactness: f64::NAN,
                ..d()
            },
            "`compactness` is NaN",
        ),
        (SlicParams { max_num_iter: 0, ..d() }, "`max_num_iter` is 0"),
        (SlicParams { sigma: -0.5, ..d() }, "`sigma` is -0.5"),
        (
            SlicParams {
                sigma: f64::INFINITY,
                ..d()
            },
            "`sigma` is inf",
        ),
        (
            SlicParams {
                min_size_factor: -0.1,
                ..d()
            },
            "`min_size_factor` is -0.1",
        ),
        (
            SlicParams {
                max_size_factor: 0.0,
                ..d()
            },
            "`max_size_factor` is 0",
        ),
        (SlicParams { start_label: 2, ..d() }, "`start_label` is 2; expected 0 or 1"),
    ];
    for (params, message) in cases {
        let err = slic_err(params);
        assert!(err.contains(message), "{err:?} lacks {message:?}");
        assert!(err.contains("expected"), "{err}");
    }
}

#[test]
fn bad_felzenszwalb_parameters_are_named() {
    let d = FelzenszwalbParams::default;
    let cases = [
        (FelzenszwalbParams { scale: -1.0, ..d() }, "`scale` is -1"),
        (FelzenszwalbParams { scale: f64::NAN, ..d() }, "`scale` is NaN"),
        (FelzenszwalbParams { sigma: -0.8, ..d() }, "`sigma` is -0.8"),
        (FelzenszwalbParams { sigma: f64::NAN, ..d() }, "`sigma` is NaN"),
        (FelzenszwalbParams { sigma: 1e9, ..d() }, "`sigma` is 1000000000"),
    ];
    for (params, message) in cases {
        let err = felzenszwalb(image(8, 8, 3).view(), &params).expect_err("bad parameter");
        assert!(err.to_string().contains(message), "{err} lacks {message:?}");
    }
}

#[test]
fn tiny_and_degenerate_images_do_not_panic() {
    // One pixel, one row, one column, constant images, more segments than pixels.
    for (h, w) in [(1, 1), (1, 9), (9, 1), (2, 2), (3, 50)] {
        let img = image(h, w, 3);
        let flat = Array3::<f32>::from_elem((h, w, 3), 0.5);
        for input in [&img, &flat] {
            for n_segments in [1, 4, 1000] {
                for slic_zero in [false, true] {
                    let params = SlicParams {
                        n_segments,
                        slic_zero,
                        ..SlicParams::default()
                    };
                    let labels = slic(input.view(), &params).expect("valid input");
                    assert_eq!(labels.dim(), (h, w));
                    assert!(labels.iter().all(|&l| l >= 1));
                }
            }
            let labels = felzenszwalb(input.view(), &FelzenszwalbParams::default()).expect("valid input");
            assert_eq!(labels.dim(), (h, w));
            assert_eq!(labels[[0, 0]], 0);
        }
    }
}

#[test]
fn defaults_are_scikit_images() {
    let s = SlicParams::default();
    assert_eq!((s.n_segments, s.compactness, s.max_num_iter, s.sigma), (100, 10.0, 10, 0.0));
    assert!(s.convert2lab && s.enforce_connectivity && !s.slic_zero);
    assert_eq!((s.min_size_factor, s.max_size_factor, s.start_label), (0.5, 3.0, 1));
    let f = FelzenszwalbParams::default();
    assert_eq!((f.scale, f.sigma, f.min_size), (1.0, 0.8, 20));
}

#[test]
fn ari_rejects_different_shapes() {
    let a = Array2::<u32>::zeros((2, 3));
    let b = Array2::<u32>::zeros((3, 2));
    let err = adjusted_rand_index(a.view(), b.view()).expect_err("shape mismatch accepted");
    assert!(err.to_string().contains("different shapes"), "{err}");
}
