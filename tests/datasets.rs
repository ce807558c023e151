//! Annotated datasets in their published layouts, read from real photos laid out as
//! CUB-200-2011 folders and STL-10 binaries (scripts/make_dataset_fixtures.py): classes, splits,
//! subsets, boxes moved through wsolevaluation's resize, torchvision's decoding of STL-10,
//! Focus mosaics drawn as Quantus draws them, and clear errors for damaged files.

use nas_core::dataset::mosaic;
use nas_core::ndarray::s;
use nas_core::{DatasetSpec, Images, NasError, Resize, Source};
use std::path::{Path, PathBuf};

/// What a test (or a helper of one) returns: any failure is an `Err` with its cause.
type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/datasets")
}

fn spec(format: &str, root: &Path, split: &str) -> DatasetSpec {
    DatasetSpec {
        format: format.into(),
        root: root.to_path_buf(),
        images: None,
        masks: None,
        split: split.into(),
        per_class: None,
        limit: None,
        mosaics_per_class: None,
        mosaic_seed: 1,
    }
}

fn open(spec: DatasetSpec) -> nas_core::Result<Source> {
    Source::open(&Images::Dataset(spec))
}

#[test]
fn cub_test_split_gives_labels_and_boxes_as_wsolevaluation_resizes_them() -> TestResult {
    let root = fixtures().join("CUB_200_2011");
    let source = open(spec("cub-200-2011", &root, "test"))?;
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join("cub_expected_boxes.json"))?)?;
    let expected = expected.as_array().ok_or("a list")?;
    assert_eq!(source.len(), expected.len());
    assert_eq!(source.class_names().map(<[String]>::len), Some(4));
    for (i, want) in expected.iter().enumerate() {
        let sample = source.load(i, Some(Resize::STRETCH_224))?;
        assert_eq!(sample.photo.path, root.join(want["path"].as_str().ok_or("a path")?));
        assert_eq!((sample.photo.height(), sample.photo.width()), (224, 224));
        assert_eq!(sample.annotation.label, want["label"].as_u64().map(|l| l as usize));
        let boxes: Vec<[i64; 4]> = sample
            .annotation
            .boxes
            .iter()
            .map(|b| [b.x0 as i64, b.y0 as i64, b.x1 as i64, b.y1 as i64])
            .collect();
        let want_boxes: Vec<[i64; 4]> = serde_json::from_value(want["boxes"].clone())?;
        assert_eq!(boxes, want_boxes, "{}", want["path"]);
    }
    Ok(())
}

#[test]
fn cub_splits_and_subsets_keep_photos_in_file_order() -> TestResult {
    let root = fixtures().join("CUB_200_2011");
    assert_eq!(open(spec("cub-200-2011", &root, "train"))?.len(), 1);
    let all = open(spec("cub-200-2011", &root, "all"))?;
    assert_eq!((0..all.len()).map(|i| all.label(i)).collect::<Vec<_>>(), [0, 1, 2, 3, 2].map(Some));
    let one_each = open(DatasetSpec {
        per_class: Some(1),
        ..spec("cub-200-2011", &root, "all")
    })?;
    assert_eq!(
        (0..one_each.len()).map(|i| one_each.label(i)).collect::<Vec<_>>(),
        [0, 1, 2, 3].map(Some)
    );
    let first_two = open(DatasetSpec {
        limit: Some(2),
        ..spec("cub-200-2011", &root, "all")
    })?;
    assert_eq!(first_two.len(), 2);
    Ok(())
}

/// A copy of the CUB fixture with `file` replaced by `text`.
fn damaged_cub(file: &str, text: &str) -> TestResult<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let source = fixtures().join("CUB_200_2011");
    for name in [
        "images.txt",
        "image_class_labels.txt",
        "bounding_boxes.txt",
        "train_test_split.txt",
        "classes.txt",
    ] {
        std::fs::copy(source.join(name), dir.path().join(name))?;
    }
    std::fs::write(dir.path().join(file), text)?;
    Ok(dir)
}

#[test]
fn damaged_cub_files_are_named_with_the_line_at_fault() -> TestResult {
    let dir = damaged_cub("bounding_boxes.txt", "1 30.0 0.0 370.0 300.0\n2 75.0 twenty 405.0 365.0\n")?;
    let err = open(spec("cub-200-2011", dir.path(), "test")).expect_err("bad number").to_string();
    assert!(
        err.contains("bounding_boxes.txt") && err.contains("line 2") && err.contains("`twenty`"),
        "{err}"
    );

    let dir = damaged_cub("image_class_labels.txt", "1 1\n2 2\n3 3\n")?;
    let err = open(spec("cub-200-2011", dir.path(), "test")).expect_err("missing id").to_string();
    assert!(err.contains("image_class_labels.txt") && err.contains("image id 4"), "{err}");

    let dir = damaged_cub("image_class_labels.txt", "1 1\n2 2\n3 3\n4 9\n5 3\n")?;
    let err = open(spec("cub-200-2011", dir.path(), "test")).expect_err("bad class").to_string();
    assert!(err.contains("class `9` is not between 1 and 4"), "{err}");

    let err = open(spec("cub-200-2011", &fixtures().join("no-such-folder"), "test")).expect_err("no folder");
    assert!(matches!(err, NasError::Dataset { .. }), "{err}");
    Ok(())
}

#[test]
fn stl10_photos_decode_as_torchvision_decodes_them() -> TestResult {
    let source = open(spec("stl10", &fixtures().join("stl10_binary"), "test"))?;
    assert_eq!(source.len(), 3);
    assert_eq!(source.class_names().and_then(|c| c.get(3)).map(String::as_str), Some("cat"));
    for (i, class) in [3usize, 0, 9].into_iter().enumerate() {
        let sample = source.load(i, None)?;
        assert_eq!(sample.annotation.label, Some(class));
        assert_eq!(sample.photo.stem(), format!("stl10-test-{i:05}"));
        let expected = image::open(fixtures().join(format!("stl10-expected/{i}-class{class}.png")))?.to_rgb8();
        assert_eq!(sample.photo.to_rgb8(), expected, "photo {i}");
    }
    let resized = source.load(0, Some(Resize::default()))?;
    assert_eq!((resized.photo.height(), resized.photo.width()), (224, 224));
    Ok(())
}

#[test]
fn damaged_stl10_files_are_refused_with_what_was_expected() -> TestResult {
    let dir = tempfile::tempdir()?;
    let source = fixtures().join("stl10_binary");
    let bytes = std::fs::read(source.join("test_X.bin"))?;
    std::fs::write(dir.path().join("test_X.bin"), &bytes[..bytes.len() - 5])?;
    std::fs::write(dir.path().join("test_y.bin"), [4u8, 1, 10])?;
    let err = open(spec("stl10", dir.path(), "test")).expect_err("truncated").to_string();
    assert!(err.contains("test_X.bin") && err.contains("27648 bytes each"), "{err}");

    std::fs::write(dir.path().join("test_X.bin"), &bytes)?;
    std::fs::write(dir.path().join("test_y.bin"), [4u8, 0, 10])?;
    let err = open(spec("stl10", dir.path(), "test")).expect_err("class 0").to_string();
    assert!(err.contains("test_y.bin") && err.contains("byte 1: class 0"), "{err}");

    std::fs::write(dir.path().join("test_y.bin"), [4u8, 1])?;
    let err = open(spec("stl10", dir.path(), "test")).expect_err("short labels").to_string();
    assert!(err.contains("2 labels for 3 photos"), "{err}");
    Ok(())
}

#[test]
fn wsolevaluation_metadata_gives_the_same_photos_labels_and_boxes_as_cub() -> TestResult {
    let images = fixtures().join("CUB_200_2011/images");
    let source = open(DatasetSpec {
        images: Some(images.clone()),
        ..spec("wsol-metadata", &fixtures().join("wsol/CUB/test"), "all")
    })?;
    let cub = open(spec("cub-200-2011", &fixtures().join("CUB_200_2011"), "test"))?;
    assert_eq!(source.len(), cub.len());
    for i in 0..cub.len() {
        let (a, b) = (source.load(i, Some(Resize::STRETCH_224))?, cub.load(i, Some(Resize::STRETCH_224))?);
        assert_eq!(a.photo.path, b.photo.path);
        assert_eq!(a.annotation, b.annotation, "{}", a.photo.path.display());
    }
    let missing = open(spec("wsol-metadata", &fixtures().join("wsol/CUB/test"), "all")).expect_err("no images folder");
    assert!(missing.to_string().contains("needs `images`"), "{missing}");
    Ok(())
}

#[test]
fn image_folders_are_listed_as_torchvision_lists_them() -> TestResult {
    let root = fixtures().join("CUB_200_2011/images");
    let source = open(spec("image-folder", &root, "all"))?;
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join("image_folder_expected.json"))?)?;
    let classes: Vec<String> = serde_json::from_value(expected["classes"].clone())?;
    assert_eq!(source.class_names().map(<[String]>::to_vec), Some(classes));
    let samples: Vec<(String, usize)> = serde_json::from_value(expected["samples"].clone())?;
    assert_eq!(source.len(), samples.len());
    for (i, (path, class)) in samples.iter().enumerate() {
        assert_eq!(source.label(i), Some(*class));
        let sample = source.load(i, None)?;
        assert_eq!(sample.photo.path, root.join(path));
        assert!(sample.annotation.boxes.is_empty());
    }
    let empty = tempfile::tempdir()?;
    let err = open(spec("image-folder", empty.path(), "all")).expect_err("no classes").to_string();
    assert!(err.contains("no class folders"), "{err}");
    Ok(())
}

#[test]
fn per_class_needs_labels_and_unlabeled_photos_have_none() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::copy(fixtures().join("stl10_binary/test_X.bin"), dir.path().join("unlabeled_X.bin"))?;
    let unlabeled = open(spec("stl10", dir.path(), "unlabeled"))?;
    assert_eq!((unlabeled.len(), unlabeled.label(0)), (3, None));
    let err = open(DatasetSpec {
        per_class: Some(1),
        ..spec("stl10", dir.path(), "unlabeled")
    })
    .expect_err("no labels")
    .to_string();
    assert!(err.contains("`per_class` needs class labels"), "{err}");
    Ok(())
}

#[test]
fn boxes_the_centre_crop_removes_are_counted() -> TestResult {
    let dir = damaged_cub(
        "bounding_boxes.txt",
        "1 30.0 0.0 370.0 300.0\n2 75.0 20.0 405.0 365.0\n4 0.0 0.0 50.0 50.0\n5 30.0 15.0 330.0 497.0\n",
    )?;
    std::fs::create_dir_all(dir.path().join("images"))?;
    let source_images = fixtures().join("CUB_200_2011/images");
    for class in ["001.Cat", "002.Coffee_cup", "003.Astronaut", "004.Rocket"] {
        let to = dir.path().join("images").join(class);
        std::fs::create_dir_all(&to)?;
        for entry in std::fs::read_dir(source_images.join(class))? {
            let path = entry?.path();
            std::fs::copy(&path, to.join(path.file_name().ok_or("a file name")?))?;
        }
    }
    let source = open(spec("cub-200-2011", dir.path(), "test"))?;
    // Rocket_0004 (640 x 427) keeps its middle 224 columns from x = 80 of the 383 scaled ones:
    // its top-left box is cut away.
    let rocket = source.load(2, Some(Resize::default()))?;
    assert!(rocket.photo.path.ends_with("Rocket_0004.jpg"));
    assert_eq!((rocket.annotation.boxes.len(), rocket.annotation.boxes_cropped_away), (0, 1));
    let cat = source.load(0, Some(Resize::default()))?;
    assert_eq!((cat.annotation.boxes.len(), cat.annotation.boxes_cropped_away), (1, 0));
    Ok(())
}

#[test]
fn image_folders_find_photos_in_subfolders_and_refuse_repeated_stems() -> TestResult {
    let dir = tempfile::tempdir()?;
    let photo = fixtures().join("CUB_200_2011/images/001.Cat/Chelsea_0001.jpg");
    for (folder, name) in [
        ("cats/b", "one.jpg"),
        ("cats/a-b", "two.jpg"),
        ("cats", "three.JPG"),
        ("dogs", "four.png.jpg"),
    ] {
        std::fs::create_dir_all(dir.path().join(folder))?;
        std::fs::copy(&photo, dir.path().join(folder).join(name))?;
    }
    std::fs::write(dir.path().join("cats/notes.txt"), "not a photo")?;
    let source = open(spec("image-folder", dir.path(), "all"))?;
    let files = (0..source.len())
        .map(|i| -> TestResult<String> {
            let path = source.load(i, None)?.photo.path;
            Ok(path.strip_prefix(dir.path())?.display().to_string())
        })
        .collect::<TestResult<Vec<String>>>()?;
    // torchvision: sorted(os.walk(...)) per class, so `cats` before `cats/a-b` before `cats/b`.
    assert_eq!(files, ["cats/three.JPG", "cats/a-b/two.jpg", "cats/b/one.jpg", "dogs/four.png.jpg"]);
    assert_eq!(
        (0..source.len()).map(|i| source.label(i)).collect::<Vec<_>>(),
        [0, 0, 0, 1].map(Some)
    );
    source.check_unique_stems()?;

    std::fs::copy(&photo, dir.path().join("dogs/one.jpg"))?;
    let repeated = open(spec("image-folder", dir.path(), "all"))?;
    let err = repeated.check_unique_stems().expect_err("stem `one` twice").to_string();
    assert!(err.contains("same file stem `one`"), "{err}");

    std::fs::create_dir_all(dir.path().join("empty"))?;
    let err = open(spec("image-folder", dir.path(), "all")).expect_err("empty class").to_string();
    assert!(err.contains("class `empty` has no photo"), "{err}");
    Ok(())
}

/// Quantus's `mosaic_creation` (scripts/make_focus_fixture.py) on the labels of the CUB and
/// STL-10 fixtures: the same photos in the same quadrants for the same seed.
#[test]
fn mosaics_are_quantus_mosaics_draw_for_draw() -> TestResult {
    let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join("../focus/mosaics.json"))?)?;
    for case in reference.as_array().ok_or("a list")? {
        let labels: Vec<usize> = serde_json::from_value(case["labels"].clone())?;
        let per_class = case["per_class"].as_u64().ok_or("per_class")? as usize;
        let plan = mosaic::plan(&labels, per_class, case["seed"].as_u64().ok_or("seed")?)?;
        let tiles: Vec<[usize; 4]> = serde_json::from_value(case["tiles"].clone())?;
        let tile_labels: Vec<[usize; 4]> = serde_json::from_value(case["tile_labels"].clone())?;
        let quadrants: Vec<[u8; 4]> = serde_json::from_value(case["p_batch"].clone())?;
        let targets: Vec<usize> = serde_json::from_value(case["targets"].clone())?;
        assert_eq!(plan.iter().map(|m| m.tiles).collect::<Vec<_>>(), tiles, "{}", case["name"]);
        assert_eq!(plan.iter().map(|m| m.labels).collect::<Vec<_>>(), tile_labels);
        assert_eq!(plan.iter().map(|m| m.target).collect::<Vec<_>>(), targets);
        let ours: Vec<[u8; 4]> = plan.iter().map(|m| m.target_quadrants().map(u8::from)).collect();
        assert_eq!(ours, quadrants);
    }
    Ok(())
}

/// A mosaic of the CUB fixture is its four photos, resized, side by side; its label is the
/// target class and its boxes the target's quadrants. Unresized STL-10 photos share a size.
#[test]
fn mosaics_place_the_resized_photos_and_box_the_target_class() -> TestResult {
    let root = fixtures().join("CUB_200_2011");
    let all = open(spec("cub-200-2011", &root, "all"))?;
    let mosaics = open(DatasetSpec {
        mosaics_per_class: Some(3),
        mosaic_seed: 3,
        ..spec("cub-200-2011", &root, "all")
    })?;
    assert_eq!(mosaics.len(), 12, "3 mosaics for each of 4 classes");
    let Source::Mosaics(ref m) = mosaics else {
        return Err("not mosaics".into());
    };
    for (index, plan) in m.plan().iter().enumerate().step_by(5) {
        let sample = mosaics.load(index, Some(Resize::STRETCH_224))?;
        assert_eq!((sample.photo.height(), sample.photo.width()), (448, 448));
        assert_eq!(sample.annotation.label, Some(plan.target));
        assert_eq!(mosaics.label(index), Some(plan.target));
        for (quadrant, &tile) in plan.tiles.iter().enumerate() {
            let photo = all.load(tile, Some(Resize::STRETCH_224))?.photo;
            let (y, x) = (quadrant / 2 * 224, quadrant % 2 * 224);
            assert_eq!(
                sample.photo.pixels.slice(s![y..y + 224, x..x + 224, ..]),
                photo.pixels,
                "mosaic {index}, quadrant {quadrant}"
            );
        }
        let boxes: Vec<[f64; 4]> = sample.annotation.boxes.iter().map(|b| [b.x0, b.y0, b.x1, b.y1]).collect();
        let expected: Vec<[f64; 4]> = (0..4)
            .filter(|&q| plan.target_quadrants()[q])
            .map(|q| {
                let (y, x) = ((q / 2 * 224) as f64, (q % 2 * 224) as f64);
                [x, y, x + 223.0, y + 223.0]
            })
            .collect();
        assert_eq!(boxes, expected, "mosaic {index}");
    }
    let unresized = mosaics.load(0, None).err().ok_or("CUB photos of several sizes made a mosaic")?;
    assert!(unresized.to_string().contains("give the pipeline a resize"), "{unresized}");
    let stl10 = open(DatasetSpec {
        mosaics_per_class: Some(1),
        ..spec("stl10", &fixtures().join("stl10_binary"), "test")
    })?;
    let sample = stl10.load(0, None)?;
    assert_eq!((sample.photo.height(), sample.photo.width()), (192, 192));
    assert_eq!(sample.photo.stem(), "mosaic-00000");
    Ok(())
}

#[test]
fn mosaics_need_two_classes() -> TestResult {
    let root = fixtures().join("CUB_200_2011");
    let err = open(DatasetSpec {
        limit: Some(1),
        mosaics_per_class: Some(2),
        ..spec("cub-200-2011", &root, "all")
    })
    .err()
    .ok_or("one class made mosaics")?;
    assert!(err.to_string().contains("at least two classes"), "{err}");
    Ok(())
}

/// The masks of wsolevaluation's OpenImages metadata layout (scripts/make_pxap_fixture.py), on
/// real photos: instances merged, the ignore mask less the objects, each mask scaled to the
/// resized photo as `cv2.resize(INTER_NEAREST)` scales it (one drawn at half resolution), equal
/// to wsolevaluation's `get_mask` at every pixel; a missing mask file is named.
#[test]
fn wsolevaluation_mask_metadata_gives_its_masks() -> TestResult {
    let open_images = fixtures().join("wsol/OpenImages");
    let source = open(DatasetSpec {
        images: Some(fixtures().join("CUB_200_2011/images")),
        masks: Some(open_images.clone()),
        ..spec("wsol-metadata", &open_images.join("test"), "all")
    })?;
    assert_eq!(source.len(), 4);
    for i in 0..source.len() {
        let sample = source.load(i, Some(Resize::STRETCH_224))?;
        let mask = sample.annotation.mask.ok_or("a mask")?;
        let expected = image::open(open_images.join(format!("expected/{i}.png")))?.to_luma8();
        assert_eq!((mask.width, mask.height), (224, 224));
        let got: Vec<u8> = mask.pixels.iter().map(|p| p.wsol_code()).collect();
        assert_eq!(got, expected.into_raw(), "{}", sample.photo.path.display());
        assert!(sample.annotation.boxes.is_empty());
    }
    let cropped = source.load(0, Some(Resize::default()))?.annotation.mask.ok_or("a mask")?;
    assert_eq!((cropped.width, cropped.height), (224, 224), "masks follow the centre crop");

    let damaged = tempfile::tempdir()?;
    for file in ["image_ids.txt", "class_labels.txt"] {
        std::fs::copy(open_images.join("test").join(file), damaged.path().join(file))?;
    }
    let listed = std::fs::read_to_string(open_images.join("test/localization.txt"))?;
    std::fs::write(
        damaged.path().join("localization.txt"),
        listed.replace("Rocket_0004_0.png", "Rocket_0004_9.png"),
    )?;
    let err = open(DatasetSpec {
        images: Some(fixtures().join("CUB_200_2011/images")),
        masks: Some(open_images.clone()),
        ..spec("wsol-metadata", damaged.path(), "all")
    })
    .expect_err("a missing mask")
    .to_string();
    assert!(err.contains("Rocket_0004_9.png") && err.contains("line 4"), "{err}");
    Ok(())
}
