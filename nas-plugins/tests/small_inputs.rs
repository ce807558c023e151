//! Every backbone runs on every input at least `BackboneInfo::min_side` pixels on a side (odd
//! sizes included), and `normalise` refuses smaller ones with an error naming the size and the
//! backbone, instead of a convolution panicking deep inside the network.

use nas_core::backbone::normalise;
use nas_core::device::default_device;
use nas_core::ndarray::Array3;
use nas_core::Photo;
use std::path::{Path, PathBuf};

fn photo(width: usize, height: usize) -> Photo {
    let pixels = Array3::from_shape_fn((height, width, 3), |(y, x, c)| ((x * 7 + y * 13 + c * 29) % 97) as f32 / 97.0);
    Photo {
        path: PathBuf::from(format!("synthetic-{width}x{height}.png")),
        pixels,
    }
}

#[test]
fn every_backbone_accepts_its_minimum_side_and_refuses_less() {
    for arch in [
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
        "vgg16_bn",
        "vit_b_16",
        "vit_b_32",
        "efficientnet-lite0",
        "mobilenet_v2",
        "densenet121",
        "convnext_tiny",
        "efficientnet_b0",
        "swin_t",
        "swin_v2_t",
        "maxvit_t",
        "mobilenet_v3_small",
        "resnext50_32x4d",
        "alexnet",
        "googlenet",
        "regnet_x_400mf",
        "regnet_y_400mf",
        "inception_v3",
        "squeezenet1_0",
        "squeezenet1_1",
        "mnasnet0_5",
        "shufflenet_v2_x1_0",
    ] {
        let net = nas_plugins::backbones::load(arch, Path::new("random:0"), default_device()).expect("random weights");
        let min = net.info().min_side();
        for (w, h) in [(min, min), (min + 1, min + 15), (2 * min - 1, min), (min + 7, 2 * min + 3)] {
            let input = normalise(&[&photo(w, h)], net.info(), net.device()).expect("input");
            let forward = net.forward(input);
            assert_eq!(forward.levels.len(), 5, "{arch} {w}x{h}");
            assert_eq!(forward.logits.dims(), [1, net.info().num_classes], "{arch} {w}x{h}");
        }
        let err = normalise(&[&photo(min - 1, min + 5)], net.info(), net.device()).expect_err("too small");
        let text = err.to_string();
        assert!(text.contains(&format!("{}x{}", min - 1, min + 5)) && text.contains(arch), "{text}");
    }
}
