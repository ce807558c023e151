//! `auc-morf` on a real photo and network (EfficientNet-Lite0, chelsea-224): most relevant
//! first is least relevant first of the negated map (pixel steps and superpixels alike, ties by
//! index both ways), and for Grad-CAM++, whose map covers the cat, removing the most relevant
//! pixels first destroys the prediction sooner than removing the least relevant first.

mod common;

use nas_core::ndarray::Array2;
use nas_core::{MetricInput, Registry, Segmentation};

#[test]
fn morf_is_lerf_of_the_negated_map_and_falls_faster_for_a_faithful_map() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let cam = registry
        .saliency("grad-cam-plus-plus", &common::params("grad-cam-plus-plus", &[]), &ctx)
        .expect("grad-cam++")
        .explain(net.as_ref(), &input, &target)
        .expect("map")
        .remove(0);
    let negated = cam.mapv(|v| -v);
    let steps = [("steps", toml::Value::Integer(16))];
    let morf = registry
        .metric("auc-morf", &common::params("auc-morf", &steps), &ctx)
        .expect("morf");
    let lerf = registry
        .metric("auc-lerf", &common::params("auc-lerf", &steps), &ctx)
        .expect("lerf");
    let grid = Segmentation::from_labels(Array2::from_shape_fn((224, 224), |(y, x)| (y / 75 * 3 + x / 75) as u32));
    let score = |metric: &dyn nas_core::Metric, map: &Array2<f32>, segmentation: Option<&Segmentation>| {
        metric
            .score(&MetricInput {
                backbone: net.as_ref(),
                input: &input,
                saliency: map,
                segmentation,
                target: target[0],
                annotation: &Default::default(),
            })
            .expect("score")
    };
    for segmentation in [None, Some(&grid)] {
        assert_eq!(
            score(morf.as_ref(), &cam, segmentation),
            score(lerf.as_ref(), &negated, segmentation)
        );
    }
    let (most, least) = (score(morf.as_ref(), &cam, None).value, score(lerf.as_ref(), &cam, None).value);
    eprintln!("Grad-CAM++ on chelsea: AUC-MoRF {most:.4}, AUC-LeRF {least:.4}");
    assert!(most < least, "MoRF {most} should be below LeRF {least}");
}
