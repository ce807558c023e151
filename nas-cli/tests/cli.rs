//! The `nas` command end to end on real photos and real weights, and its answers to bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared() -> PathBuf {
    for c in [
        std::env::var_os("NAS_SHARED").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")),
        Some(PathBuf::from("/work/shared")),
    ]
    .into_iter()
    .flatten()
    {
        if c.join("weights").is_dir() {
            return c;
        }
    }
    panic!("the shared folder was not found: set NAS_SHARED");
}

fn photo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/images/chelsea.png")
}

fn effnet() -> String {
    shared().join("weights/efficientnet-lite0-57934424.pth").display().to_string()
}

fn nas(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nas"))
        .arg("--cache")
        .arg(cache)
        .args(args)
        .env("NAS_OFFLINE", "1")
        .output()
        .expect("nas runs")
}

/// `nas explain` with ResNet-18's seeded random weights, `args`, on the bundled photo.
fn explain_random_resnet18(cache: &Path, args: &[&str]) -> Output {
    let photo = photo();
    let mut all = vec!["explain", "--backbone", "resnet18", "--weights", "random:0"];
    all.extend_from_slice(args);
    all.push(photo.to_str().unwrap());
    nas(cache, &all)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn predict_json_names_the_cat() {
    let tmp = tempfile::tempdir().unwrap();
    let out = nas(
        tmp.path(),
        &[
            "predict",
            "--backbone",
            "efficientnet-lite0",
            "--weights",
            &effnet(),
            "--json",
            photo().to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let top5 = line["top5"].as_array().unwrap();
    assert_eq!(top5.len(), 5);
    let first = top5[0]["class"].as_u64().unwrap();
    assert!((281..=285).contains(&first), "chelsea is a cat; got {line}");
    assert!(top5[0]["name"].as_str().unwrap().contains("cat"), "{line}");
    let p: f64 = top5.iter().map(|t| t["score"].as_f64().unwrap()).sum();
    assert!(p > 0.0 && p <= 1.0 + 1e-6);
}

#[test]
fn random_weights_are_seeded_and_need_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = photo();
    let predict = |weights: &str| {
        let out = nas(
            tmp.path(),
            &[
                "predict",
                "--backbone",
                "resnet50",
                "--weights",
                weights,
                "--json",
                photo.to_str().unwrap(),
            ],
        );
        (out.status.code(), text(&out))
    };
    let (code, (first, stderr)) = predict("random:0");
    assert_eq!(code, Some(0), "{stderr}");
    let parsed: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert!(parsed["top5"][0]["score"].as_f64().unwrap().is_finite(), "{first}");
    assert_eq!(predict("random:0").1 .0, first, "same seed, same network");
    assert_ne!(predict("random:1").1 .0, first, "another seed, another network");
    let (code, (_, stderr)) = predict("random:x");
    assert_eq!(code, Some(65), "bad input, {stderr}");
    assert!(stderr.contains("random:x") && stderr.contains("SEED"), "{stderr}");
}

#[test]
fn features_writes_five_levels_and_logits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("feats");
    let out = nas(
        tmp.path(),
        &[
            "features",
            "--backbone",
            "efficientnet-lite0",
            "--weights",
            &effnet(),
            "--out",
            dir.to_str().unwrap(),
            photo().to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let level4 = nas_core::npy::read::<f32>(&dir.join("chelsea.level4.npy")).unwrap();
    assert_eq!(level4.shape(), &[1280, 7, 7]);
    let level0 = nas_core::npy::read::<f32>(&dir.join("chelsea.level0.npy")).unwrap();
    assert_eq!(level0.shape(), &[16, 112, 112]);
    assert_eq!(
        nas_core::npy::read::<f32>(&dir.join("chelsea.logits.npy")).unwrap().shape(),
        &[1000]
    );
    assert!(!text(&out).1.contains("timing:"), "one batch has no steady state to report");
}

/// `--resize-size` and `--crop-size` set torchvision's two transform sizes: the crop decides the
/// input, so the levels; a crop larger than the resize is refused, naming both.
#[test]
fn resize_and_crop_sizes_shape_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("feats");
    let photo = photo();
    let run = |extra: &[&str]| {
        let mut args = vec!["features", "--backbone", "convnext_tiny", "--weights", "random:0"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", dir.to_str().unwrap(), photo.to_str().unwrap()]);
        nas(tmp.path(), &args)
    };
    let out = run(&["--resize-size", "236", "--crop-size", "192"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let level4 = nas_core::npy::read::<f32>(&dir.join("chelsea.level4.npy")).unwrap();
    assert_eq!(level4.shape(), &[768, 6, 6], "a 192-pixel crop gives ConvNeXt 6x6 at stride 32");
    let out = run(&["--resize-size", "236", "--crop-size", "300"]);
    assert_eq!(out.status.code(), Some(65), "{}", text(&out).1);
    let stderr = text(&out).1;
    assert!(stderr.contains("crop size 300") && stderr.contains("236"), "{stderr}");
}

#[test]
fn several_batches_report_first_batch_and_steady_throughput() {
    let tmp = tempfile::tempdir().unwrap();
    let copies: Vec<String> = (0..3)
        .map(|i| {
            let p = tmp.path().join(format!("copy{i}.png"));
            std::fs::copy(photo(), &p).unwrap();
            p.display().to_string()
        })
        .collect();
    let dir = tmp.path().join("feats");
    let weights = effnet();
    let mut args = vec![
        "features",
        "--weights",
        weights.as_str(),
        "--batch",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend(copies.iter().map(String::as_str));
    let out = nas(tmp.path(), &args);
    let stderr = text(&out).1;
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("timing: first batch of 2 images") && stderr.contains("images/s"),
        "{stderr}"
    );
    assert!(dir.join("copy2.level4.npy").is_file());
}

#[test]
fn segment_is_deterministic_and_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let weights = effnet();
    let run = |dir: &Path, extra: &[&str]| {
        let mut args = vec![
            "segment",
            "--backbone",
            "efficientnet-lite0",
            "--weights",
            &weights,
            "--layers",
            "2,3,4",
            "-k",
            "5",
            "--seed",
            "0",
            "--out",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let photo = photo();
        args.push(photo.to_str().unwrap());
        let out = nas(tmp.path(), &args);
        assert!(out.status.success(), "{}", text(&out).1);
    };
    let (a, b, c) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("c"));
    run(&a, &[]);
    run(&b, &[]);
    // The batched tensor k-means (what GPUs run) finds the same clusters as the host one.
    run(&c, &["--param", "clustering=device"]);
    let host = nas_core::npy::read::<u32>(&a.join("chelsea.clusters.npy")).unwrap();
    let device = nas_core::npy::read::<u32>(&c.join("chelsea.clusters.npy")).unwrap();
    let same = host.iter().zip(device.iter()).filter(|(x, y)| x == y).count();
    assert!(
        same as f64 >= 0.999 * host.len() as f64,
        "device k-means agrees on {same} of {} pixels",
        host.len()
    );
    for f in ["chelsea.labels.npy", "chelsea.clusters.npy", "chelsea.png"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between runs with the same seed"
        );
    }
    let labels = nas_core::npy::read::<u32>(&a.join("chelsea.labels.npy")).unwrap();
    let clusters = nas_core::npy::read::<u32>(&a.join("chelsea.clusters.npy")).unwrap();
    assert_eq!(labels.shape(), &[224, 224]);
    assert!(clusters.iter().all(|c| *c < 5));
    let used: std::collections::BTreeSet<u32> = clusters.iter().copied().collect();
    assert_eq!(used.len(), 5, "all five clusters are used");
    // Every superpixel lies in exactly one cluster.
    let mut cluster_of = std::collections::HashMap::new();
    for (s, c) in labels.iter().zip(clusters.iter()) {
        assert_eq!(*cluster_of.entry(*s).or_insert(*c), *c);
    }
    assert!(!files_in(&a).iter().any(|f| f.starts_with(".nas-partial")));
}

#[test]
fn explain_superpixelifies_and_scores() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("x");
    let out = nas(
        tmp.path(),
        &[
            "explain",
            "--backbone",
            "efficientnet-lite0",
            "--weights",
            &effnet(),
            "--method",
            "gradient",
            "--metric",
            "auc-lerf",
            "--param",
            "metric.steps=10",
            "--out",
            dir.to_str().unwrap(),
            photo().to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let raw = nas_core::npy::read::<f32>(&dir.join("chelsea.gradient.npy")).unwrap();
    let sp = nas_core::npy::read::<f32>(&dir.join("chelsea.gradient.superpixel.npy")).unwrap();
    let labels = nas_core::npy::read::<u32>(&dir.join("chelsea.labels.npy")).unwrap();
    assert_eq!(raw.shape(), &[224, 224]);
    let mut value_of = std::collections::HashMap::new();
    for (s, v) in labels.iter().zip(sp.iter()) {
        assert_eq!(
            *value_of.entry(*s).or_insert(*v),
            *v,
            "superpixelified map is constant per superpixel"
        );
    }
    let raw_sum: f64 = raw.iter().map(|v| f64::from(*v)).sum::<f64>();
    let sp_sum: f64 = sp.iter().map(|v| f64::from(*v)).sum::<f64>();
    assert!(
        (raw_sum - sp_sum).abs() <= 1e-3 * raw_sum.abs().max(1.0),
        "averaging keeps the total: {raw_sum} vs {sp_sum}"
    );
    let csv = std::fs::read_to_string(dir.join("scores.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    for row in rows {
        let value: f64 = row.rsplit(',').next().unwrap().parse().unwrap();
        assert!(value.is_finite() && (-1.0..=2.0).contains(&value), "{row}");
    }
}

#[test]
fn superpixel_metrics_score_only_superpixelified_maps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    let out = explain_random_resnet18(
        tmp.path(),
        &[
            "--method",
            "gradient",
            "-k",
            "2",
            "--metric",
            "auc-lerf",
            "--metric",
            "auc-lerf-max",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let csv = std::fs::read_to_string(dir.join("scores.csv")).unwrap();
    let rows: Vec<(&str, &str)> = csv
        .lines()
        .skip(1)
        .map(|row| {
            let fields: Vec<&str> = row.split(',').collect();
            (fields[1], fields[2])
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("gradient", "auc-lerf"),
            ("gradient+superpixel", "auc-lerf"),
            ("gradient+superpixel", "auc-lerf-max"),
        ],
        "{csv}"
    );
}

#[test]
fn every_saliency_method_writes_its_maps() {
    let tmp = tempfile::tempdir().unwrap();
    let methods: [(&str, &[&str]); 7] = [
        ("integrated-gradients", &["--param", "steps=4"]),
        ("lrp", &[]),
        ("smoothgrad", &["--param", "samples=2"]),
        ("grad-cam", &[]),
        ("grad-cam-plus-plus", &[]),
        ("rise", &["--param", "masks=8"]),
        ("xrai", &["--param", "steps=2"]),
    ];
    for (method, extra) in methods {
        let dir = tmp.path().join(method);
        let mut args = vec!["--method", method, "--param", "segmenter.k=3", "--out", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = explain_random_resnet18(tmp.path(), &args);
        assert!(out.status.success(), "{method}: {}", text(&out).1);
        let raw = nas_core::npy::read::<f32>(&dir.join(format!("chelsea.{method}.npy"))).unwrap();
        let sp = nas_core::npy::read::<f32>(&dir.join(format!("chelsea.{method}.superpixel.npy"))).unwrap();
        assert_eq!(raw.shape(), &[224, 224], "{method}");
        assert_eq!(sp.shape(), &[224, 224], "{method}");
        assert!(raw.iter().all(|v| v.is_finite()), "{method}: non-finite values");
        assert!(raw.iter().any(|v| *v != raw[[0, 0]]), "{method}: a constant map");
        assert!(dir.join(format!("chelsea.{method}.png")).is_file(), "{method}: no heatmap");
    }
}

#[test]
fn odd_images_are_converted() {
    let tmp = tempfile::tempdir().unwrap();
    let rgb = image::open(photo()).unwrap();
    let variants = [
        ("gray.png", image::DynamicImage::ImageLuma8(rgb.to_luma8())),
        ("rgba.png", image::DynamicImage::ImageRgba8(rgb.to_rgba8())),
        ("deep.png", image::DynamicImage::ImageRgb16(rgb.to_rgb16())),
    ];
    let mut paths = Vec::new();
    for (name, img) in variants {
        let p = tmp.path().join(name);
        img.save(&p).unwrap();
        paths.push(p.display().to_string());
    }
    let mut args = vec!["predict", "--backbone", "efficientnet-lite0", "--json"];
    let w = effnet();
    args.extend(["--weights", w.as_str()]);
    args.extend(paths.iter().map(String::as_str));
    let out = nas(tmp.path(), &args);
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(text(&out).0.lines().count(), 3);
}

#[test]
fn bad_input_gets_clear_errors_and_no_partial_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let truncated = tmp.path().join("truncated.png");
    let bytes = std::fs::read(photo()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let w = effnet();
    let out_s = out_dir.display().to_string();
    let img = photo().display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let cases: Vec<(Vec<String>, &str, i32)> = vec![
        (
            s(&["segment", "--weights", &w, "--out", &out_s, &truncated.display().to_string()]),
            "truncated.png",
            65,
        ),
        (s(&["predict", "--backbone", "resnet18", &img]), "resnet18-f37072fd.pth", 65),
        (
            s(&["predict", "--backbone", "lenet5", &img]),
            "valid choices: alexnet, convnext_base",
            64,
        ),
        (s(&["segment", "--weights", &w, "-k", "0", "--out", &out_s, &img]), "`k`", 64),
        (
            s(&["segment", "--weights", &w, "-k", "20", "--param", "grid=4", "--out", &out_s, &img]),
            "K = 20 is larger than the number of pixels (16)",
            65,
        ),
        (
            s(&["segment", "--weights", &w, "--param", "scaling=zscore", "--out", &out_s, &img]),
            "none, standardize, minmax, l2",
            64,
        ),
        (
            s(&["segment", "--weights", &w, "--param", "clusterer.seeed=3", "--out", &out_s, &img]),
            "seeed",
            64,
        ),
        (
            s(&[
                "predict",
                "--weights",
                &shared().join("weights/resnet18-seed0.pth").display().to_string(),
                &img,
            ]),
            "missing key `_conv_stem.weight`",
            65,
        ),
    ];
    for (args, needle, code) in cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = nas(tmp.path(), &refs);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: expected `{needle}` in: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let leftovers: Vec<String> = files_in(&out_dir).into_iter().filter(|f| f.starts_with(".nas-partial")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A method the backbone cannot serve is refused before any file of the run is written.
    let refused_dir = tmp.path().join("refused");
    let args = [
        "explain",
        "--backbone",
        "convnext_tiny",
        "--weights",
        "random:0",
        "--method",
        "guided-backprop",
    ];
    let out = nas(
        tmp.path(),
        &[&args[..], &["--out", refused_dir.to_str().unwrap(), img.as_str()]].concat(),
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert!(stderr.contains("convnext_tiny") && stderr.contains("own backward pass"), "{stderr}");
    assert_eq!(files_in(&refused_dir), Vec::<String>::new(), "files written before the refusal");
}

#[test]
fn pipeline_errors_name_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("images = [\"a.png\"]\nbackbon = \"resnet18\"\n", "unknown key `backbon`"),
        (
            "images = [\"a.png\"]\n[segmenter]\nname = \"nas\"\nk = \"five\"\n[backbone]\nname = \"efficientnet-lite0\"\n",
            "`k` = \"five\"",
        ),
        ("images = [\"a.png\"\n", "not valid TOML"),
        ("images = [\"a.png\"]\n[segmenter]\nname = \"watershed\"\n", "valid choices:"),
    ];
    for (i, (toml_text, needle)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("p{i}.toml"));
        std::fs::write(&path, toml_text).unwrap();
        let out = nas(tmp.path(), &["run", path.to_str().unwrap()]);
        let (_, stderr) = text(&out);
        assert!(!out.status.success());
        assert!(stderr.contains(needle), "case {i}: expected `{needle}` in: {stderr}");
    }
}

#[test]
fn list_shows_every_kind_with_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let out = nas(tmp.path(), &["list", "--json"]);
    assert!(out.status.success());
    let entries: Vec<serde_json::Value> = text(&out).0.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (kind, name) in [
        ("backbone", "resnet18"),
        ("segmenter", "nas"),
        ("clusterer", "kmeans"),
        ("saliency method", "gradient"),
        ("metric", "auc-lerf"),
    ] {
        assert!(
            entries.iter().any(|e| e["kind"] == kind && e["name"] == name),
            "{kind} {name} missing from nas list"
        );
    }
    let nas_entry = entries.iter().find(|e| e["name"] == "nas").unwrap();
    assert!(nas_entry["params"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "levels" && p["default"] == "[2, 3, 4]"));
}

#[test]
fn ward_hierarchy_is_nested_and_consensus_reports_stability() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("h");
    let w = effnet();
    let img = photo().display().to_string();
    let out = nas(
        tmp.path(),
        &[
            "segment",
            "--weights",
            &w,
            "--clusterer",
            "ward",
            "-k",
            "3,5,10",
            "--param",
            "grid=48",
            "--json",
            "--out",
            dir.to_str().unwrap(),
            &img,
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let k3 = nas_core::npy::read::<u32>(&dir.join("chelsea.k3.clusters.npy")).unwrap();
    let k10 = nas_core::npy::read::<u32>(&dir.join("chelsea.k10.clusters.npy")).unwrap();
    assert!(
        nas_cluster::is_nested(k3.as_slice().unwrap(), k10.as_slice().unwrap()),
        "K = 10 refines K = 3"
    );
    assert_eq!(k10.iter().copied().collect::<std::collections::BTreeSet<u32>>().len(), 10);
    let out = nas(
        tmp.path(),
        &[
            "segment",
            "--weights",
            &w,
            "--clusterer",
            "kmeans",
            "-k",
            "3,5",
            "--out",
            dir.to_str().unwrap(),
            &img,
        ],
    );
    assert!(text(&out).1.contains("--clusterer ward"), "{}", text(&out).1);

    let dir = tmp.path().join("c");
    let out = nas(
        tmp.path(),
        &[
            "segment",
            "--weights",
            &w,
            "--runs",
            "4",
            "--json",
            "--out",
            dir.to_str().unwrap(),
            &img,
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let summary: serde_json::Value = serde_json::from_str(text(&out).0.lines().next().unwrap()).unwrap();
    let ari = summary["mean_pairwise_ari"].as_f64().unwrap();
    assert!(
        (-0.5..=1.0).contains(&ari) && ari > 0.2,
        "runs of NAS k-means agree more than chance: {ari}"
    );
    let consensus = nas_core::npy::read::<u32>(&dir.join("chelsea.consensus.clusters.npy")).unwrap();
    assert!(consensus.iter().all(|c| *c < 5));
    assert!(dir.join("chelsea.runs.png").exists());
}

#[test]
fn classic_segmenters_share_the_output_format() {
    let tmp = tempfile::tempdir().unwrap();
    let img = photo().display().to_string();
    for (method, param) in [("slic", "n_segments=20"), ("felzenszwalb", "scale=100")] {
        let dir = tmp.path().join(method);
        let out = nas(
            tmp.path(),
            &[
                "segment",
                "--method",
                method,
                "--param",
                param,
                "--out",
                dir.to_str().unwrap(),
                &img,
            ],
        );
        assert!(out.status.success(), "{method}: {}", text(&out).1);
        let labels = nas_core::npy::read::<u32>(&dir.join("chelsea.labels.npy")).unwrap();
        let clusters = nas_core::npy::read::<u32>(&dir.join("chelsea.clusters.npy")).unwrap();
        assert_eq!(labels, clusters, "{method}: each superpixel is its own cluster");
        let count = labels.iter().copied().max().unwrap() + 1;
        assert_eq!(
            labels.iter().copied().collect::<std::collections::BTreeSet<u32>>().len() as u32,
            count,
            "{method}: ids are 0..n"
        );
        if method == "slic" {
            assert!((10..=30).contains(&count), "slic with n_segments=20 gave {count}");
        }
        assert!(dir.join("chelsea.png").exists());
    }
    let out = nas(
        tmp.path(),
        &[
            "segment",
            "--method",
            "slic",
            "--param",
            "n_segment=20",
            "--out",
            tmp.path().join("bad").to_str().unwrap(),
            &img,
        ],
    );
    assert!(
        text(&out).1.contains("n_segments"),
        "the error lists the valid parameters: {}",
        text(&out).1
    );
}

#[test]
fn weights_lists_verifies_and_flags_corrupt_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("weights");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(effnet(), dir.join("efficientnet-lite0-57934424.pth")).unwrap();
    std::fs::write(dir.join("resnet18-f37072fd.pth"), b"not the real file").unwrap();
    let out = nas(tmp.path(), &["weights", "--verify", "--json"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let rows: Vec<serde_json::Value> = text(&out).0.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let status = |b: &str| {
        rows.iter().find(|r| r["backbone"] == b).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(status("efficientnet-lite0").starts_with("ok"), "{rows:?}");
    assert!(status("resnet18").starts_with("CORRUPT"), "{rows:?}");
    assert_eq!(status("vgg16"), "missing");
    assert_eq!(status("vgg19"), "missing");
    assert_eq!(
        rows.len(),
        85,
        "every built-in backbone: MaxViT-T, five ResNets, two Wide ResNets, three ResNeXts, eight VGGs, four DenseNets, five torchvision ViTs, three DeiTs and timm's ViT-B/16, three Swins and three Swin V2s, four ConvNeXts, EfficientNet-B0 to B7 and V2-S/M/L, EfficientNet-Lite0, three MobileNets, four MNASNets, four ShuffleNet V2s, fifteen RegNets, AlexNet, GoogLeNet, Inception v3, two SqueezeNets"
    );
    let crop = |b: &str| rows.iter().find(|r| r["backbone"] == b).unwrap()["crop_size"].as_u64();
    assert_eq!((crop("efficientnet_b7"), crop("efficientnet-lite0")), (Some(600), None));
    let resize = |b: &str| rows.iter().find(|r| r["backbone"] == b).unwrap()["resize_size"].as_u64();
    assert_eq!(
        (resize("convnext_tiny"), resize("resnet50"), resize("resnet18")),
        (Some(236), Some(232), Some(256))
    );
}

/// `[dataset] mosaics_per_class` turns the CUB fixture's four classes into four 2 x 2 mosaics
/// (two 224 x 224 photos of the class, two of others), explained for their class and scored by
/// `focus`; for Grad-CAM's non-negative maps Focus is the relevance mass of the class's quadrants.
#[test]
fn mosaic_pipeline_scores_focus() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let cub = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/datasets/CUB_200_2011");
    let dir = tmp.path().join("focus");
    let pipeline = tmp.path().join("focus.toml");
    std::fs::write(
        &pipeline,
        format!(
            "out = {out:?}\nresize = \"stretch\"\ntarget = \"label\"\n\
             [dataset]\nformat = \"cub-200-2011\"\nroot = {cub:?}\nsplit = \"all\"\nmosaics_per_class = 1\nmosaic_seed = 3\n\
             [backbone]\nname = \"resnet18\"\nweights = \"random:0\"\n\
             [segmenter]\nname = \"nas\"\nlevels = [2, 3, 4]\nk = 5\n\
             [[saliency]]\nname = \"grad-cam\"\n[[saliency]]\nname = \"gradient\"\n\
             [[metric]]\nname = \"focus\"\n[[metric]]\nname = \"relevance-mass\"\n",
            out = dir.display().to_string(),
            cub = cub.display().to_string()
        ),
    )?;
    let out = nas(tmp.path(), &["run", pipeline.to_str().ok_or("path")?]);
    assert!(out.status.success(), "{}", text(&out).1);
    let mosaic = image::open(dir.join("mosaic-00000.png"))?;
    assert_eq!((mosaic.width(), mosaic.height()), (448, 448));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json"))?)?;
    let labels: Vec<u64> = summary["images"]
        .as_array()
        .ok_or("images")?
        .iter()
        .filter_map(|i| i["label"].as_u64())
        .collect();
    assert_eq!(labels, [0, 1, 2, 3], "one mosaic per class, classes in order");
    let table = summary["table"].as_array().ok_or("table")?;
    let mean = |map: &str, metric: &str| -> Option<f64> {
        table
            .iter()
            .find(|r| r["map"] == map && r["metric"] == metric && r["statistic"] == "mean")
            .and_then(|r| r["value"].as_f64())
    };
    for map in ["grad-cam", "gradient", "gradient+superpixel"] {
        let focus = mean(map, "focus").ok_or(format!("{map}: no focus in {table:?}"))?;
        assert!((0.0..=1.0).contains(&focus), "{map}: {focus}");
    }
    let (focus, mass) = (mean("grad-cam", "focus"), mean("grad-cam", "relevance-mass"));
    assert!(
        matches!((focus, mass), (Some(f), Some(m)) if (f - m).abs() < 1e-6),
        "{focus:?} vs {mass:?}"
    );
    Ok(())
}

#[test]
fn cub_pipeline_scores_localisation_over_the_dataset() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir().unwrap();
    let cub = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/datasets/CUB_200_2011");
    let dir = tmp.path().join("wsol");
    let pipeline = tmp.path().join("wsol.toml");
    std::fs::write(
        &pipeline,
        format!(
            "out = {out:?}\nresize = \"stretch\"\ntarget = \"label\"\n\
             [dataset]\nformat = \"cub-200-2011\"\nroot = {cub:?}\nsplit = \"test\"\n\
             [backbone]\nname = \"resnet18\"\nweights = \"random:0\"\n\
             [segmenter]\nname = \"nas\"\nlevels = [2, 3, 4]\nk = 5\n\
             [[saliency]]\nname = \"grad-cam\"\n\
             [[metric]]\nname = \"max-box-acc\"\n[[metric]]\nname = \"pointing-game\"\n[[metric]]\nname = \"relevance-mass\"\n[[metric]]\nname = \"localisation-auc\"\n\
             [[metric]]\nname = \"sensitivity-n\"\nstep = 1792\n",
            out = dir.display().to_string(),
            cub = cub.display().to_string()
        ),
    )
    .unwrap();
    let out = nas(tmp.path(), &["run", pipeline.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let images = summary["images"].as_array().unwrap();
    assert_eq!(images.len(), 4);
    assert_eq!(
        images.iter().map(|i| i["label"].as_u64().unwrap()).collect::<Vec<_>>(),
        images.iter().map(|i| i["target"].as_u64().unwrap()).collect::<Vec<_>>()
    );
    let table = summary["table"].as_array().unwrap();
    for map in ["grad-cam", "grad-cam+superpixel"] {
        let stat = |name: &str| {
            table
                .iter()
                .find(|r| r["map"] == map && r["statistic"] == name)
                .and_then(|r| r["value"].as_f64())
                .unwrap_or_else(|| panic!("{map} {name} missing from {table:?}"))
        };
        let per_delta = [stat("IoU@30"), stat("IoU@50"), stat("IoU@70")];
        assert!((stat("MaxBoxAccV2") - per_delta.iter().sum::<f64>() / 3.0).abs() < 1e-9);
        // IoU@50 again from the per-photo curves: the share of photos at or above 0.5 at the best
        // threshold, in percent of the four photos.
        let curves: Vec<Vec<f64>> = images
            .iter()
            .flat_map(|i| i["scores"].as_array().unwrap())
            .filter(|s| s["map"] == map && s["metric"] == "max-box-acc")
            .map(|s| s["curve"].as_array().unwrap().iter().map(|p| p[1].as_f64().unwrap()).collect())
            .collect();
        assert_eq!(curves.len(), 4);
        assert!(curves.iter().all(|c| c.len() == 100));
        let best = (0..100)
            .map(|t| curves.iter().filter(|c| c[t] >= 0.5).count() as f64 * 25.0)
            .fold(0.0, f64::max);
        assert_eq!(stat("IoU@50"), best, "{map}");
    }
    assert!(std::fs::read_to_string(dir.join("table.csv"))
        .unwrap()
        .contains("grad-cam+superpixel,max-box-acc,MaxBoxAccV2,"));
    // A figure defined over the dataset only: its row counts the four photos that carry steps
    // (floor(0.8 * 224 * 224 / (3 * 1792)) = 7 each), though none has a value of its own.
    let row = table
        .iter()
        .find(|r| r["metric"] == "sensitivity-n" && r["map"] == "grad-cam")
        .unwrap_or_else(|| panic!("no sensitivity-n row in {table:?}"));
    assert_eq!((row["statistic"].as_str(), row["images"].as_u64()), (Some("SensitivityN"), Some(4)));
    let steps: Vec<usize> = images
        .iter()
        .flat_map(|i| i["scores"].as_array().unwrap())
        .filter(|s| s["map"] == "grad-cam" && s["metric"] == "sensitivity-n")
        .map(|s| s["curve"].as_array().unwrap().len())
        .collect();
    assert_eq!(steps, vec![7; 4]);
    // The pointing game from the saved maps and the boxes wsolevaluation's resize gives: the
    // first maximum within 15 pixels of a box.
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cub.join("../cub_expected_boxes.json")).unwrap()).unwrap();
    let mut hits = 0;
    for (image, want) in images.iter().zip(expected.as_array().unwrap()) {
        let stem = Path::new(image["image"].as_str().unwrap())
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let map = npy_f32(&dir.join(format!("{stem}.grad-cam.npy")));
        let at = map.iter().enumerate().fold(0, |best, (i, v)| if *v > map[best] { i } else { best });
        let (x, y) = ((at % 224) as f64, (at / 224) as f64);
        let hit = want["boxes"].as_array().unwrap().iter().any(|b| {
            let b: Vec<f64> = b.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            let (dx, dy) = ((b[0] - x).max(0.0).max(x - b[2]), (b[1] - y).max(0.0).max(y - b[3]));
            dx * dx + dy * dy < 225.0
        });
        let score = image["scores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["map"] == "grad-cam" && s["metric"] == "pointing-game")
            .and_then(|s| s["value"].as_f64())
            .unwrap();
        assert_eq!(score, f64::from(u8::from(hit)), "{stem}");
        let inside: f64 = want["boxes"].as_array().unwrap().iter().fold(0.0, |sum, b| {
            let b: Vec<usize> = b.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
            // One box per photo here, so no pixel is counted twice.
            sum + (b[1]..=b[3].min(223))
                .flat_map(|y| (b[0]..=b[2].min(223)).map(move |x| y * 224 + x))
                .map(|p| f64::from(map[p]))
                .sum::<f64>()
        });
        let total: f64 = map.iter().map(|v| f64::from(*v)).sum();
        let mass = image["scores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["map"] == "grad-cam" && s["metric"] == "relevance-mass")
            .and_then(|s| s["value"].as_f64())
            .unwrap();
        if want["boxes"].as_array().unwrap().len() == 1 {
            assert!(
                (mass - inside / total).abs() < 1e-9,
                "{stem}: relevance mass {mass} vs {}",
                inside / total
            );
        }
        hits += usize::from(hit);
    }
    let accuracy = table
        .iter()
        .find(|r| r["map"] == "grad-cam" && r["metric"] == "pointing-game" && r["statistic"] == "hit rate")
        .and_then(|r| r["value"].as_f64())
        .unwrap();
    assert_eq!(accuracy, hits as f64 * 25.0);
    // The plain and superpixelified Grad-CAM maps compared photo by photo on every metric: the
    // same tests again from the per-photo scores.
    let comparisons = summary["comparisons"].as_array().ok_or("no comparisons in summary.json")?;
    let csv = std::fs::read_to_string(dir.join("comparisons.csv"))?;
    assert!(csv.starts_with("metric,map_a,map_b,pairs,mean_a,mean_b,wilcoxon_statistic,wilcoxon_p,t_statistic,t_p\n"));
    assert_eq!(csv.lines().count(), comparisons.len() + 1);
    let per_photo = |map: &str, metric: &str| -> Vec<f64> {
        images
            .iter()
            .flat_map(|i| i["scores"].as_array().into_iter().flatten())
            .filter(|s| s["map"] == map && s["metric"] == metric)
            .map(|s| s["value"].as_f64().unwrap_or(f64::NAN))
            .collect()
    };
    for metric in ["max-box-acc", "pointing-game", "relevance-mass", "localisation-auc"] {
        let row = comparisons
            .iter()
            .find(|c| c["metric"] == metric && c["map_a"] == "grad-cam" && c["map_b"] == "grad-cam+superpixel")
            .unwrap_or_else(|| panic!("no comparison for {metric}: {comparisons:?}"));
        let (a, b): (Vec<f64>, Vec<f64>) = per_photo("grad-cam", metric)
            .into_iter()
            .zip(per_photo("grad-cam+superpixel", metric))
            .filter(|(x, y)| !x.is_nan() && !y.is_nan())
            .unzip();
        assert_eq!(row["pairs"].as_u64(), Some(a.len() as u64), "{metric}");
        let t = nas_core::significance::paired_t(&a, &b);
        let same = |field: &str, want: f64| match row[field].as_f64() {
            Some(v) => (v - want).abs() < 1e-12,
            None => want.is_nan(),
        };
        assert!(same("t_statistic", t.statistic) && same("t_p", t.p_value), "{metric}: {row}");
        let w = nas_core::significance::wilcoxon(&a, &b);
        assert!(same("wilcoxon_p", w.p_value), "{metric}: {row}");
    }
    Ok(())
}

#[test]
fn box_metrics_without_boxes_say_what_they_need() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    let out = explain_random_resnet18(
        tmp.path(),
        &[
            "--method",
            "grad-cam",
            "--segmenter",
            "none",
            "--metric",
            "max-box-acc",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).1.contains("needs ground-truth boxes"), "{}", text(&out).1);
    assert!(!dir.join("summary.json").exists());
}

#[test]
fn several_segmenters_are_compared_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, segmenters: &str| {
        let dir = tmp.path().join(name);
        let pipeline = tmp.path().join(format!("{name}.toml"));
        std::fs::write(
            &pipeline,
            format!(
                "images = [{photo:?}]\nout = {out:?}\n[backbone]\nname = \"resnet18\"\nweights = \"random:0\"\n\
                 {segmenters}\n[[saliency]]\nname = \"gradient\"\n[[metric]]\nname = \"auc-lerf\"\nsteps = 8\n",
                photo = photo().display().to_string(),
                out = dir.display().to_string(),
            ),
        )
        .unwrap();
        let out = nas(tmp.path(), &["run", pipeline.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out).1);
        dir
    };
    let nas_table = "name = \"nas\"\nlevels = [2, 3, 4]\nk = 5\n";
    let both = run(
        "both",
        &format!("[[segmenter]]\n{nas_table}[[segmenter]]\nname = \"slic\"\nlabel = \"slic-50\"\nn_segments = 50\n"),
    );
    let only_nas = run("nas", &format!("[segmenter]\n{nas_table}"));
    for file in [
        "chelsea.nas.labels.npy",
        "chelsea.slic-50.labels.npy",
        "chelsea.gradient.nas.npy",
        "chelsea.gradient.slic-50.npy",
    ] {
        assert!(both.join(file).is_file(), "{file} missing: {:?}", files_in(&both));
    }
    assert_eq!(
        std::fs::read(both.join("chelsea.gradient.nas.npy")).unwrap(),
        std::fs::read(only_nas.join("chelsea.gradient.superpixel.npy")).unwrap(),
        "the NAS-averaged map does not depend on the other segmenters"
    );
    let csv = std::fs::read_to_string(both.join("scores.csv")).unwrap();
    let maps: Vec<&str> = csv.lines().skip(1).map(|row| row.split(',').nth(1).unwrap()).collect();
    assert_eq!(maps, ["gradient", "gradient+nas", "gradient+slic-50"], "{csv}");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(both.join("summary.json")).unwrap()).unwrap();
    let counts = &summary["images"][0]["superpixels_by_segmenter"];
    assert_eq!(counts.as_array().map(Vec::len), Some(2), "{summary}");
}

#[test]
fn class_wise_clusters_are_fitted_then_shared_by_every_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let stl = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/datasets/stl10_binary");
    let model = tmp.path().join("all.safetensors");
    let pipeline = |name: &str, k: usize, extra: &str| {
        let path = tmp.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "out = {out:?}\nresize = \"stretch\"\nbatch = 3\n[dataset]\nformat = \"stl10\"\nroot = {root:?}\n\
                 [backbone]\nname = \"resnet18\"\nweights = \"random:0\"\n\
                 [segmenter]\nname = \"nas\"\nlevels = [3, 4]\nk = {k}\ngrid = 56\n{extra}",
                out = tmp.path().join(name).display().to_string(),
                root = stl.display().to_string(),
            ),
        )
        .unwrap();
        path
    };
    let fit = pipeline("fit", 3, "");
    let out = nas(
        tmp.path(),
        &[
            "classwise",
            fit.to_str().unwrap(),
            "--clusters",
            "3",
            "--samples",
            "6",
            "--out",
            model.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(text(&out).1.contains("108 pixels of 3 photos in 3 clusters"), "{}", text(&out).1);
    let knn = format!(
        "[segmenter.clusterer]\nname = \"knn\"\nmodel = {:?}\n[[saliency]]\nname = \"grad-cam\"\n\
         [[metric]]\nname = \"cluster-saliency\"\nfocus = 1\n",
        model.display().to_string()
    );
    let run = pipeline("explain", 3, &knn);
    let out = nas(tmp.path(), &["run", run.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(tmp.path().join("explain/summary.json")).unwrap()).unwrap();
    let stats: Vec<&str> = summary["table"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["map"] == "grad-cam+superpixel")
        .map(|r| r["statistic"].as_str().unwrap())
        .collect();
    assert_eq!(&stats[..3], ["most salient cluster", "cluster 1", "other clusters"], "{stats:?}");
    let clusters = npy_u32(&tmp.path().join("explain/stl10-test-00000.clusters.npy"));
    assert!(clusters.iter().all(|&c| c < 3));

    let wrong_k = pipeline("wrong", 5, &knn);
    let out = nas(tmp.path(), &["run", wrong_k.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out)
            .1
            .contains("holds 3 clusters but the segmenter asks for k = 5; set k = 3"),
        "{}",
        text(&out).1
    );
}

/// The 4-byte values of a version-1 .npy file.
fn npy_words(path: &Path) -> Vec<[u8; 4]> {
    let bytes = std::fs::read(path).unwrap();
    let header = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    bytes[10 + header..].chunks_exact(4).map(|b| [b[0], b[1], b[2], b[3]]).collect()
}

/// The values of a little-endian uint32 .npy file.
fn npy_u32(path: &Path) -> Vec<u32> {
    npy_words(path).into_iter().map(u32::from_le_bytes).collect()
}

#[test]
fn only_splits_photos_by_whether_they_are_classified_correctly() {
    let tmp = tempfile::tempdir().unwrap();
    let stl = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/datasets/stl10_binary");
    let mut explained = Vec::new();
    for only in ["correct", "misclassified"] {
        let dir = tmp.path().join(only);
        let pipeline = tmp.path().join(format!("{only}.toml"));
        std::fs::write(
            &pipeline,
            format!(
                "out = {out:?}\nonly = \"{only}\"\ntarget = \"label\"\nresize = \"stretch\"\nbatch = 3\n[dataset]\nformat = \"stl10\"\nroot = {root:?}\n\
                 [backbone]\nname = \"resnet18\"\nweights = \"random:0\"\nnum_classes = 10\n[[saliency]]\nname = \"gradient\"\n",
                out = dir.display().to_string(),
                root = stl.display().to_string(),
            ),
        )
        .unwrap();
        let out = nas(tmp.path(), &["run", pipeline.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out).1);
        let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
        let images = summary["images"].as_array().unwrap().clone();
        assert_eq!(images.len(), 3);
        for image in &images {
            let correct = image["predicted"] == image["label"];
            let skipped = image["skipped"].as_bool().unwrap_or(false);
            assert_eq!(skipped, correct == (only == "misclassified"), "{only}: {image}");
            assert_eq!(image["files"].as_array().map_or(0, Vec::len) > 0, !skipped, "{only}: {image}");
        }
        explained.push(images.iter().filter(|i| !i["skipped"].as_bool().unwrap_or(false)).count());
    }
    assert_eq!(
        explained.iter().sum::<usize>(),
        3,
        "each photo is explained in exactly one of the two runs"
    );
    // With these weights one photo of the three is classified correctly, so each run both
    // explains and skips photos of one batch.
    assert_eq!(explained, [1, 2]);
}

#[test]
fn precomputed_maps_are_superpixelified_and_scored_like_built_in_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let common = |dir: &Path| {
        vec![
            "--backbone".to_string(),
            "resnet18".into(),
            "--weights".into(),
            "random:0".into(),
            "-k".into(),
            "4".into(),
            "--metric".into(),
            "auc-lerf".into(),
            "--param".into(),
            "metric.steps=8".into(),
            "--out".into(),
            dir.display().to_string(),
            photo().display().to_string(),
        ]
    };
    let built_in = tmp.path().join("gradient");
    let mut args = vec!["explain".to_string(), "--method".into(), "gradient".into()];
    args.extend(common(&built_in));
    let out = nas(tmp.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out).1);

    // The same map as a (1, 3, H, W) float64 array, its signal in the first channel.
    let map: Vec<f32> = npy_f32(&built_in.join("chelsea.gradient.npy"));
    let maps = tmp.path().join("captum");
    std::fs::create_dir_all(&maps).unwrap();
    let mut values: Vec<f64> = map.iter().map(|&v| f64::from(v)).collect();
    values.extend(std::iter::repeat_n(0.0, 2 * map.len()));
    std::fs::write(maps.join("chelsea.attr.npy"), nas_core::npy::encode(&[1, 3, 224, 224], &values)).unwrap();
    let read = tmp.path().join("read");
    let mut args = vec![
        "explain".to_string(),
        "--method".into(),
        "precomputed".into(),
        "--param".into(),
        format!("folder={:?}", maps.display().to_string()),
        "--param".into(),
        "pattern=\"{stem}.attr.npy\"".into(),
    ];
    args.extend(common(&read));
    let out = nas(tmp.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(npy_f32(&read.join("chelsea.precomputed.npy")), map);
    assert_eq!(
        npy_f32(&read.join("chelsea.precomputed.superpixel.npy")),
        npy_f32(&built_in.join("chelsea.gradient.superpixel.npy"))
    );
    let scores = |dir: &Path| -> Vec<String> {
        std::fs::read_to_string(dir.join("scores.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.rsplit(',').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(scores(&read), scores(&built_in));

    std::fs::write(maps.join("chelsea.attr.npy"), nas_core::npy::encode(&[7, 7], &[0.5f32; 49])).unwrap();
    let out = nas(tmp.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!out.status.success());
    assert!(text(&out).1.contains("chelsea.attr.npy: the map is (7, 7)"), "{}", text(&out).1);
}

/// The values of a little-endian float32 .npy file.
fn npy_f32(path: &Path) -> Vec<f32> {
    npy_words(path).into_iter().map(f32::from_le_bytes).collect()
}

#[test]
fn every_example_pipeline_parses_and_names_registered_components() {
    nas_plugins::link();
    let registry = nas_core::Registry::builtin();
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let pipeline = nas_core::pipeline::Pipeline::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let known = |kind, name: &str| registry.names(kind).iter().any(|n| n == name);
        use nas_core::Kind;
        let backbone = pipeline.backbone.as_ref().map(|b| b.name.as_str());
        assert!(
            backbone.is_none_or(|b| known(Kind::Backbone, b)),
            "{}: backbone {backbone:?}",
            path.display()
        );
        for (_, s) in &pipeline.segmenters {
            assert!(known(Kind::Segmenter, &s.name), "{}: segmenter {}", path.display(), s.name);
        }
        for (_, s) in &pipeline.saliency {
            assert!(known(Kind::Saliency, &s.name), "{}: saliency {}", path.display(), s.name);
        }
        for (_, m) in &pipeline.metrics {
            assert!(known(Kind::Metric, &m.name), "{}: metric {}", path.display(), m.name);
        }
        if let nas_core::Images::Dataset(spec) = &pipeline.images {
            nas_core::Source::open(&pipeline.images).unwrap_or_else(|e| panic!("{}: {e}", spec.root.display()));
        }
        checked += 1;
    }
    assert!(checked >= 3, "examples/ holds the demo and the paper's experiments");
}

#[test]
fn robustness_metrics_remake_raw_and_superpixelified_maps() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let pipeline = tmp.path().join("robust.toml");
    let run = |out: &str, saliency: &str| -> Output {
        let text = format!(
            "images = [{photo:?}]\nout = {out:?}\n[backbone]\nname = \"resnet18\"\nweights = \"random:0\"\n\
             [segmenter]\nname = \"slic\"\n[[saliency]]\n{saliency}\n\
             [[metric]]\nname = \"max-sensitivity\"\nsamples = 3\nbatch = 2\nseed = 1\n\
             [[metric]]\nname = \"avg-sensitivity\"\nsamples = 3\nbatch = 2\nseed = 1\n",
            photo = photo().display().to_string(),
            out = tmp.path().join(out).display().to_string()
        );
        std::fs::write(&pipeline, text)
            .map(|_| nas(tmp.path(), &["run", &pipeline.display().to_string()]))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let first = run("a", "name = \"gradient\"");
    assert!(first.status.success(), "{}", text(&first).1);
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(tmp.path().join("a/summary.json"))?)?;
    let scores = summary["images"][0]["scores"].as_array().ok_or("no scores")?;
    let find = |map: &str, metric: &str| {
        scores
            .iter()
            .find(|s| s["map"] == map && s["metric"] == metric)
            .ok_or("score missing")
    };
    for map in ["gradient", "gradient+superpixel"] {
        let (max, avg) = (find(map, "max-sensitivity")?, find(map, "avg-sensitivity")?);
        let ratios: Vec<f64> = max["curve"]
            .as_array()
            .ok_or("no curve")?
            .iter()
            .filter_map(|p| p[1].as_f64())
            .collect();
        assert_eq!(ratios.len(), 3, "{map}: one ratio per sample");
        assert!(ratios.iter().all(|r| r.is_finite() && *r > 0.0), "{map}: {ratios:?}");
        // The same noisy copies (same seed and batch), so the mean is over max-sensitivity's ratios.
        let mean = ratios.iter().sum::<f64>() / 3.0;
        assert!((avg["value"].as_f64().ok_or("avg")? - mean).abs() < 1e-12, "{map}");
        let largest = ratios.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(max["value"].as_f64(), Some(largest), "{map}");
    }
    let again = run("b", "name = \"gradient\"");
    assert!(again.status.success(), "{}", text(&again).1);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("b/scores.csv"))?,
        std::fs::read_to_string(tmp.path().join("a/scores.csv"))?,
        "the same seed, the same scores"
    );
    // Maps read from files cannot be remade for the noisy copies: refused, not scored 0.
    let folder = tmp.path().join("a").display().to_string();
    let precomputed = run(
        "c",
        &format!("name = \"precomputed\"\nfolder = {folder:?}\npattern = \"{{stem}}.gradient.npy\""),
    );
    assert!(!precomputed.status.success());
    assert!(
        text(&precomputed).1.contains("cannot remake them for perturbed photos"),
        "{}",
        text(&precomputed).1
    );
    Ok(())
}

/// The dynamic example plugin, built with cargo into its own target folder (the one the
/// workspace's plugin tests use; the outer `cargo test` holds the lock on its own).
fn edges_plugin() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().and_then(Path::parent).ok_or("no profile folder")?.to_path_buf();
    let name = profile_dir.file_name().ok_or("no profile name")?.to_string_lossy().into_owned();
    let profile = if name == "debug" { "dev".to_string() } else { name.clone() };
    let target_dir = profile_dir.parent().ok_or("no target folder")?.join("plugin-tests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["build", "-p", "nas-plugin-edges", "--profile", &profile, "--target-dir"])
        .arg(&target_dir)
        .output()?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    Ok(target_dir.join(&name).join(format!(
        "{}nas_plugin_edges{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )))
}

#[test]
fn the_binary_loads_a_dynamic_plugin_and_runs_it() -> Result<(), Box<dyn std::error::Error>> {
    // The host and the plugin must share one allocator: memory crosses the boundary both ways.
    let tmp = tempfile::tempdir()?;
    let plugin = edges_plugin()?.display().to_string();
    let list = nas(tmp.path(), &["--plugin", &plugin, "list"]);
    assert!(list.status.success(), "{}", text(&list).1);
    assert!(text(&list).0.contains("grid"), "{}", text(&list).0);
    let dir = tmp.path().join("edges");
    let (dir_arg, photo_arg) = (dir.display().to_string(), photo().display().to_string());
    let run = nas(
        tmp.path(),
        &["--plugin", &plugin, "segment", "--method", "grid", "--out", &dir_arg, &photo_arg],
    );
    assert!(run.status.success(), "{}", text(&run).1);
    assert!(dir.join("chelsea.labels.npy").exists(), "{:?}", files_in(&dir));
    Ok(())
}

/// `nas sanity` randomises resnet18 in two steps (the trained network, then all 41 modules) and
/// writes one row per photo and step, the trained step comparing a map with itself; in the
/// independent order each step randomises one module, from the input; without a weight file it
/// says what it needs.
#[test]
fn sanity_randomises_the_network_and_compares_the_maps() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("sanity");
    let weights = shared().join("weights/resnet18-seed0.pth").display().to_string();
    let photo = photo().display().to_string();
    let run = nas(
        tmp.path(),
        &[
            "sanity",
            "--backbone",
            "resnet18",
            "--weights",
            &weights,
            "--every",
            "41",
            "--out",
            &out.display().to_string(),
            &photo,
        ],
    );
    let (stdout, stderr) = text(&run);
    assert!(run.status.success(), "{stderr}");
    assert!(stdout.contains("conv1"), "the last step reaches the first module: {stdout}");
    let csv = std::fs::read_to_string(out.join("randomisation.csv"))?;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert_eq!(lines[0], "image,step,randomised,module,spearman,spearman_abs,ssim,entropy_rise");
    let trained: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(&trained[1..], ["0", "0", "", "1", "1", "1", "0"], "{csv}");
    let random: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(&random[1..4], ["1", "41", "conv1"], "{csv}");
    // EfficientMPRT's entropy rise is 0 for the trained step (above) and measured for the random
    // one (0.037 for this seeded network; discrete_entropy itself is checked against Quantus in
    // nas-plugins/tests/complexity.rs).
    let rise: f64 = random[7].parse()?;
    assert!(rise != 0.0 && rise.is_finite(), "entropy rise {rise}: {csv}");
    let files = files_in(&out);
    assert!(files.contains(&"chelsea.step001.gradient.png".to_string()), "{files:?}");
    let page = std::fs::read_to_string(out.join("randomisation.html"))?;
    assert!(
        page.contains("<svg") && page.contains("chelsea.step001.gradient.png"),
        "the page plots the steps and shows the maps"
    );
    assert!(!files.iter().any(|f| f.contains(".tmp")), "{files:?}");
    let independent = tmp.path().join("independent");
    let run = nas(
        tmp.path(),
        &[
            "sanity",
            "--backbone",
            "resnet18",
            "--weights",
            &weights,
            "--order",
            "independent",
            "--every",
            "40",
            "--out",
            &independent.display().to_string(),
            &photo,
        ],
    );
    let (_, stderr) = text(&run);
    assert!(run.status.success(), "{stderr}");
    let csv = std::fs::read_to_string(independent.join("randomisation.csv"))?;
    let modules: Vec<&str> = csv.lines().skip(1).filter_map(|line| line.split(',').nth(3)).collect();
    assert_eq!(modules, ["", "conv1", "fc"], "one module at a time, from the input: {csv}");
    let refused = nas(
        tmp.path(),
        &["sanity", "--backbone", "resnet18", "--out", &out.display().to_string(), &photo],
    );
    let (_, stderr) = text(&refused);
    assert!(!refused.status.success() && stderr.contains("--weights"), "{stderr}");
    Ok(())
}

/// The superpixel attributions' own segmenter is reached on the command line as
/// `--param segmentation.*` (`segmenter.*` goes to the pipeline's segmenter): feature ablation
/// over SLIC's few superpixels gives a map with one value per superpixel.
#[test]
fn superpixel_attributions_take_their_segmentation_from_the_command_line() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("ablation");
    let run = explain_random_resnet18(
        tmp.path(),
        &[
            "--method",
            "feature-ablation",
            "--param",
            "segmentation.name=slic",
            "--param",
            "segmentation.n_segments=6",
            "--segmenter",
            "none",
            "--out",
            out.to_str().ok_or("path")?,
        ],
    );
    let (_, stderr) = text(&run);
    assert!(run.status.success(), "{stderr}");
    let map = nas_core::npy::read::<f32>(&out.join("chelsea.feature-ablation.npy"))?;
    let mut distinct: Vec<u32> = map.iter().map(|v| v.to_bits()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        (2..=12).contains(&distinct.len()),
        "{} distinct values for about 6 superpixels",
        distinct.len()
    );
    Ok(())
}

/// PxAP through a pipeline on wsolevaluation's OpenImages layout (four real photos, hand-drawn
/// masks, in batches of two): each photo's curve holds the counts its saved map gives against
/// wsolevaluation's own mask of it (scripts/make_pxap_fixture.py), and `table.csv`'s PxAP is
/// the one of those counts summed over the photos, for the raw and the superpixelified maps.
#[test]
fn openimages_pipeline_scores_pxap_over_the_dataset() -> Result<(), Box<dyn std::error::Error>> {
    use nas_core::{PixelMask, PixelTruth};
    use nas_plugins::metrics::pixel_average_precision::{average_precision, PixelAveragePrecision};
    let tmp = tempfile::tempdir()?;
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/datasets");
    let open_images = fixtures.join("wsol/OpenImages");
    let dir = tmp.path().join("pxap");
    let pipeline = tmp.path().join("pxap.toml");
    std::fs::write(
        &pipeline,
        format!(
            "out = {out:?}\nresize = \"stretch\"\nbatch = 2\n\
             [dataset]\nformat = \"wsol-metadata\"\nroot = {root:?}\nimages = {images:?}\nmasks = {masks:?}\n\
             [backbone]\nname = \"resnet18\"\nweights = \"random:0\"\n\
             [segmenter]\nname = \"nas\"\nlevels = [2, 3, 4]\nk = 5\n\
             [[saliency]]\nname = \"grad-cam\"\n[[metric]]\nname = \"pxap\"\n",
            out = dir.display().to_string(),
            root = open_images.join("test").display().to_string(),
            images = fixtures.join("CUB_200_2011/images").display().to_string(),
            masks = open_images.display().to_string(),
        ),
    )?;
    let out = nas(tmp.path(), &["run", pipeline.to_str().ok_or("path")?]);
    assert!(out.status.success(), "{}", text(&out).1);
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json"))?)?;
    let images = summary["images"].as_array().ok_or("images")?;
    assert_eq!(images.len(), 4);
    let metric = PixelAveragePrecision::new(0.01);
    for map in ["grad-cam", "grad-cam+superpixel"] {
        let mut pooled = vec![(0.0, 0.0); 102];
        for (n, image) in images.iter().enumerate() {
            let score = image["scores"]
                .as_array()
                .ok_or("scores")?
                .iter()
                .find(|s| s["map"] == map && s["metric"] == "pxap")
                .ok_or("a pxap score")?;
            let curve: Vec<(f64, f64)> = serde_json::from_value(score["curve"].clone())?;
            let stem = Path::new(image["image"].as_str().ok_or("image")?)
                .file_stem()
                .ok_or("stem")?
                .to_string_lossy()
                .into_owned();
            let file = if map == "grad-cam" {
                format!("{stem}.grad-cam.npy")
            } else {
                format!("{stem}.grad-cam.superpixel.npy")
            };
            let saved = nas_core::ndarray::Array2::from_shape_vec((224, 224), npy_f32(&dir.join(file)))?;
            let truth = image::open(open_images.join(format!("expected/{n}.png")))?.to_luma8();
            let mask = PixelMask {
                width: 224,
                height: 224,
                pixels: truth.into_raw().into_iter().map(PixelTruth::from_wsol_code).collect(),
            };
            assert_eq!(metric.counts(&saved, &mask)?, curve, "{map} {stem}");
            for (total, (tp, fp)) in pooled.iter_mut().zip(&curve) {
                total.0 += tp;
                total.1 += fp;
            }
        }
        let row = summary["table"]
            .as_array()
            .ok_or("table")?
            .iter()
            .find(|r| r["map"] == map && r["statistic"] == "PxAP")
            .and_then(|r| r["value"].as_f64())
            .ok_or("a PxAP row")?;
        let expected = average_precision(&pooled).ok_or("defined")?;
        assert!((row - expected).abs() < 1e-9, "{map}: {row} against {expected}");
    }
    assert!(std::fs::read_to_string(dir.join("table.csv"))?.contains("grad-cam,pxap,PxAP,"));
    Ok(())
}

/// A local HTTP server standing in for download.pytorch.org: answers its first request with
/// `body`, whatever the path. Returns the base URL to give as NAS_TORCHVISION_MODELS.
fn serve_once(body: &'static [u8]) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}/models", listener.local_addr()?);
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 4096];
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream
                .read(&mut request)
                .and_then(|_| stream.write_all(head.as_bytes()))
                .and_then(|()| stream.write_all(body));
        }
    });
    Ok(base)
}

/// `nas` online (NAS_OFFLINE unset) with `env` set.
fn nas_online(cache: &Path, args: &[&str], env: &[(&str, &str)]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_nas"))
        .arg("--cache")
        .arg(cache)
        .args(args)
        .env_remove("NAS_OFFLINE")
        .envs(env.iter().copied())
        .output()
}

/// No weight file left in the cache.
fn no_weights_kept(cache: &Path) {
    let left: Vec<_> = std::fs::read_dir(cache.join("weights"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing is kept: {left:?}");
}

/// `nas weights --download`: offline mode refuses with the URL it would fetch; a hub answering
/// with other content than the name promises (a local server, through NAS_TORCHVISION_MODELS) is
/// refused and leaves no file; an unknown backbone is named.
#[test]
fn weights_download_verifies_what_the_hub_sends() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let offline = nas(tmp.path(), &["weights", "--download", "resnet18"]);
    let err = text(&offline).1;
    assert!(!offline.status.success());
    assert!(
        err.contains("NAS_OFFLINE") && err.contains("download.pytorch.org/models/resnet18-f37072fd.pth"),
        "{err}"
    );
    let unknown = nas(tmp.path(), &["weights", "--download", "lenet5"]);
    assert!(
        !unknown.status.success() && text(&unknown).1.contains("lenet5"),
        "{}",
        text(&unknown).1
    );
    let base = serve_once(b"not resnet18's weights")?;
    let refused = nas_online(
        tmp.path(),
        &["weights", "--download", "resnet18"],
        &[("NAS_TORCHVISION_MODELS", &base)],
    )?;
    let err = text(&refused).1;
    assert!(!refused.status.success());
    assert!(err.contains("sha256") && err.contains("f37072fd") && err.contains(&base), "{err}");
    no_weights_kept(tmp.path());
    Ok(())
}

/// A backbone without its file in the cache: the error names `nas weights --download`; with
/// NAS_DOWNLOAD_WEIGHTS=1 the command fetches the file from the hub itself (and refuses, as
/// above, content that does not match the name).
#[test]
fn missing_weights_are_downloaded_only_when_allowed() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let photo = photo();
    let args = ["predict", "--backbone", "resnet18", photo.to_str().ok_or("path")?];
    let missing = nas(tmp.path(), &args);
    let err = text(&missing).1;
    assert!(
        !missing.status.success() && err.contains("nas weights --download resnet18"),
        "{err}"
    );
    let base = serve_once(b"not resnet18's weights")?;
    let fetched = nas_online(
        tmp.path(),
        &args,
        &[("NAS_TORCHVISION_MODELS", &base), ("NAS_DOWNLOAD_WEIGHTS", "1")],
    )?;
    let err = text(&fetched).1;
    assert!(!fetched.status.success() && err.contains("sha256") && err.contains(&base), "{err}");
    no_weights_kept(tmp.path());
    Ok(())
}
