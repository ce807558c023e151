//! Times `max-box-acc` per map on the 19 real saliency maps of its test fixture (224 x 224), at
//! wsolevaluation's two threshold intervals: the median over several runs of the time to find
//! every threshold's boxes and best IoU for all maps, divided by the number of maps.
//!
//! ```text
//! cargo run --release -p nas-plugins --example max_box_acc_bench -- [runs]
//! ```
//! scripts/bench-max-box-acc.sh runs it beside wsolevaluation's procedure with OpenCV.

use nas_core::ndarray::{Array2, Ix2};
use nas_core::npy;
use nas_plugins::metrics::max_box_acc::{MaxBoxAcc, PixelBox};
use std::path::Path;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).map(|r| r.parse()).transpose()?.unwrap_or(5);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixtures.join("max_box_acc/cases.json"))?)?;
    let mut maps: Vec<(Array2<f32>, Vec<PixelBox>)> = Vec::new();
    for case in cases["cases"].as_array().ok_or("cases.json: no cases")? {
        let map = npy::read::<f32>(&fixtures.join(case["map"].as_str().ok_or("no map")?))?.into_dimensionality::<Ix2>()?;
        let map = if case["transform"] == "abs" { map.mapv(f32::abs) } else { map };
        let boxes: Vec<Vec<i64>> = serde_json::from_value(case["gt_boxes"].clone())?;
        let truth = boxes
            .iter()
            .map(|b| PixelBox {
                x0: b[0],
                y0: b[1],
                x1: b[2],
                y1: b[3],
            })
            .collect();
        maps.push((map, truth));
    }
    for interval in [0.01, 0.001] {
        let metric = MaxBoxAcc::new(interval, vec![30, 50, 70]);
        let mut times: Vec<Duration> = (0..runs.max(1))
            .map(|_| {
                let start = Instant::now();
                for (map, truth) in &maps {
                    std::hint::black_box(metric.best_ious(map, truth));
                }
                start.elapsed() / maps.len() as u32
            })
            .collect();
        times.sort();
        println!(
            "max-box-acc interval {interval}: {:.2} ms per map (median of {runs}, {} maps)",
            times[times.len() / 2].as_secs_f64() * 1e3,
            maps.len()
        );
    }
    Ok(())
}
