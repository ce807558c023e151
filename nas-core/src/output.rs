//! Writing result files atomically: a temp file in the target folder, renamed into place when
//! complete, so an interrupted or failed run never leaves a partial file behind.

use crate::error::{NasError, Result};
use std::io::Write;
use std::path::Path;

/// Writes `path` by calling `fill` on a temporary file beside it, then renaming it into place.
pub fn write_atomically(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| NasError::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".nas-partial-")
        .tempfile_in(dir)
        .map_err(|e| NasError::io(dir, e))?;
    {
        let mut writer = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut writer).map_err(|e| NasError::io(path, e))?;
        writer.flush().map_err(|e| NasError::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| NasError::io(path, e.error))?;
    Ok(())
}

/// Writes bytes atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |w| w.write_all(bytes))
}

/// Encodes an RGB image as PNG and writes it atomically.
pub fn write_png(path: &Path, image: &image::RgbImage) -> Result<()> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| NasError::io(path, std::io::Error::other(e)))?;
    write_bytes(path, &bytes)
}
