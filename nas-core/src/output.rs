//! Writing result files atomically: a temp file in the target folder, renamed into place when
//! complete, so an interrupted or failed run never leaves a partial file behind.

use crate::error::{NasError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `path` by calling `fill` on a temporary file beside it, then renaming it into place.
pub fn write_atomically(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| NasError::io(dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".nas-partial-");
    // Results are ordinary files: created as `std::fs::write` would (0666 less the umask), not
    // with the private mode temporary files get.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(|e| NasError::io(dir, e))?;
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

/// A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote or a
/// line break (an image path may).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes a CSV file of `header` and one line per row, atomically; returns its path.
pub fn write_csv<const N: usize>(path: &Path, header: &str, rows: impl Iterator<Item = [String; N]>) -> Result<PathBuf> {
    let mut csv = format!("{header}\n");
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&fields.join(","));
        csv.push('\n');
    }
    write_bytes(path, csv.as_bytes())?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(super::csv_field("photos/cat.png"), "photos/cat.png");
        assert_eq!(super::csv_field("a,b.png"), "\"a,b.png\"");
        assert_eq!(super::csv_field("say \"cheese\".png"), "\"say \"\"cheese\"\".png\"");
    }

    #[cfg(unix)]
    #[test]
    fn results_get_the_mode_of_ordinary_files() -> crate::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().map_err(|e| crate::NasError::io("temp dir", e))?;
        let ours = dir.path().join("ours.bin");
        let plain = dir.path().join("plain.bin");
        super::write_bytes(&ours, b"x")?;
        std::fs::write(&plain, b"x").map_err(|e| crate::NasError::io(&plain, e))?;
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .map_err(|e| crate::NasError::io(p, e))
        };
        assert_eq!(mode(&ours)?, mode(&plain)?);
        Ok(())
    }
}
