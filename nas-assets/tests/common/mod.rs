//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Test result type: any error fails the test with its message.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Every regular file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Asserts that no temporary download or extraction file is left in `dir`.
pub fn assert_no_partial_files(dir: &Path) {
    let partial: Vec<_> = files_under(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(nas_assets::cache::TEMP_PREFIX))
        })
        .collect();
    assert!(partial.is_empty(), "partial files left: {partial:?}");
}

/// A real zip archive (deflate-compressed, like a wheel) with these members.
pub fn make_wheel(members: &[(&str, &[u8])]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, data) in members {
        zip.start_file(*name, options)?;
        zip.write_all(data)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// A `&'static str` for building test catalog entries at run time.
pub fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
