//! Results do not depend on the thread count, and the fast paths agree with
//! the general ones.

mod support;

use nas_superpixels::{adjusted_rand_index, felzenszwalb, slic, FelzenszwalbParams, SlicParams};
use ndarray::Array3;

fn photo() -> Array3<f32> {
    support::load_rgb(&support::shared_dir().join("images/chelsea-224.png"))
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}

#[test]
fn labels_do_not_depend_on_the_thread_count() {
    let image = photo();
    let slic_params = SlicParams {
        slic_zero: true,
        sigma: 1.0,
        ..SlicParams::default()
    };
    let felz_params = FelzenszwalbParams {
        scale: 100.0,
        ..FelzenszwalbParams::default()
    };
    let run = || {
        (
            slic(image.view(), &slic_params).expect("slic"),
            felzenszwalb(image.view(), &felz_params).expect("felzenszwalb"),
        )
    };
    let one = in_pool(1, run);
    for threads in [2, 3, 5] {
        assert_eq!(in_pool(threads, run), one, "{threads} threads");
    }
}

#[test]
fn non_8_bit_input_takes_the_general_path_and_agrees() {
    // Nudging every value off the u8 / 255 grid disables the per-level
    // table; the labels must stay (almost) the same.
    let image = photo();
    let nudged = image.mapv(|v| (v * 0.999_9 + 0.000_05).clamp(0.0, 1.0));
    let a = slic(image.view(), &SlicParams::default()).expect("slic");
    let b = slic(nudged.view(), &SlicParams::default()).expect("slic");
    let ari = adjusted_rand_index(a.view(), b.view()).expect("same shape");
    assert!(ari > 0.99, "ARI {ari}");
}

#[test]
fn repeated_calls_give_identical_labels() {
    // The per-thread buffer pool must not leak state between calls.
    let image = photo();
    let small = image.slice(ndarray::s![..50, ..70, ..]).to_owned();
    let first = felzenszwalb(image.view(), &FelzenszwalbParams::default()).expect("felz");
    let _ = felzenszwalb(small.view(), &FelzenszwalbParams::default()).expect("felz");
    let again = felzenszwalb(image.view(), &FelzenszwalbParams::default()).expect("felz");
    assert_eq!(first, again);
    let first = slic(image.view(), &SlicParams::default()).expect("slic");
    let _ = slic(small.view(), &SlicParams::default()).expect("slic");
    let again = slic(image.view(), &SlicParams::default()).expect("slic");
    assert_eq!(first, again);
}

#[test]
fn strided_views_match_contiguous_copies() {
    let image = photo();
    let view = image.slice(ndarray::s![..;2, ..;-1, ..]);
    let copy = view.to_owned();
    assert_eq!(
        slic(view, &SlicParams::default()).expect("slic"),
        slic(copy.view(), &SlicParams::default()).expect("slic")
    );
    assert_eq!(
        felzenszwalb(view, &FelzenszwalbParams::default()).expect("felz"),
        felzenszwalb(copy.view(), &FelzenszwalbParams::default()).expect("felz")
    );
}
