//! `sobel-cam` against pytorch-grad-cam 1.5.7's `sobel_cam` on OpenCV (scripts/make_sobel_cam_fixture.py):
//! every pixel of two 96x96 photo corners equal to OpenCV's uint8 map (over 255), whatever the
//! backbone's normalisation; the map ignores the class.

mod common;

use nas_core::ndarray::Ix2;
use nas_core::{npy, Registry};
use std::path::{Path, PathBuf};

#[test]
fn edges_equal_opencvs() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let method = registry
        .saliency("sobel-cam", &common::params("sobel-cam", &[]), &ctx)
        .expect("method");
    for backbone in ["resnet18", "efficientnet-lite0"] {
        let net = nas_plugins::backbones::load(backbone, Path::new("random:0"), nas_core::device::default_device()).expect("net");
        let photos = [
            common::cropped_photo("chelsea-224", 96, 96),
            common::cropped_photo("coffee-224", 96, 96),
        ];
        let input = nas_core::backbone::normalise(&[&photos[0], &photos[1]], net.info(), net.device()).expect("input");
        let maps = method.explain(net.as_ref(), &input, &[0, 0]).expect("maps");
        for (name, map) in ["chelsea", "coffee"].iter().zip(&maps) {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/sobel_cam/{name}.npy"));
            let theirs = npy::read::<i32>(&path).expect("fixture").into_dimensionality::<Ix2>().expect("2-D");
            let differing = map
                .iter()
                .zip(theirs.iter())
                .filter(|(a, b)| (**a * 255.0).round() as i32 != **b)
                .count();
            assert_eq!(differing, 0, "{backbone}, {name}: {differing} pixels differ from OpenCV's");
        }
        let other_class = method.explain(net.as_ref(), &input, &[5, 7]).expect("maps");
        assert_eq!(other_class, maps, "the class plays no part");
    }
}
