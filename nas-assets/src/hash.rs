//! sha256 hashing of files and streams.
//!
//! Every byte this crate stores is hashed while it is written, so a file is
//! verified without being read twice; files already in the cache are hashed
//! once before being trusted.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::AssetError;

/// Lower-case hex sha256 of the file at `path`.
pub fn sha256_file(path: &Path) -> Result<String, AssetError> {
    let read_err = |source| AssetError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let copied = copy_hashing(&mut file, &mut io::sink(), |_| {}).map_err(|e| match e {
        CopyError::Read { source, .. } | CopyError::Write(source) => read_err(source),
    })?;
    Ok(copied.sha256)
}

/// Lower-case hex sha256 of a byte slice.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What [`copy_hashing`] moved.
#[derive(Debug)]
pub(crate) struct Copied {
    /// Number of bytes copied.
    pub bytes: u64,
    /// Lower-case hex sha256 of those bytes.
    pub sha256: String,
}

/// Which side of a [`copy_hashing`] failed, so callers can blame the source
/// (network, zip) or the destination (cache directory) correctly.
#[derive(Debug)]
pub(crate) enum CopyError {
    /// Reading failed after `received` bytes.
    Read { received: u64, source: io::Error },
    /// Writing failed.
    Write(io::Error),
}

/// Copies `reader` into `writer`, hashing on the way and reporting the running
/// byte count to `progress` after each chunk.
pub(crate) fn copy_hashing(reader: &mut impl Read, writer: &mut impl Write, mut progress: impl FnMut(u64)) -> Result<Copied, CopyError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(CopyError::Read { received: bytes, source }),
        };
        let chunk = &buf[..n];
        hasher.update(chunk);
        writer.write_all(chunk).map_err(CopyError::Write)?;
        bytes += n as u64;
        progress(bytes);
    }
    writer.flush().map_err(CopyError::Write)?;
    Ok(Copied {
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn copy_hashes_what_it_copies() -> Result<(), Box<dyn std::error::Error>> {
        let data = vec![7u8; 200_000];
        let mut out = Vec::new();
        let mut last = 0;
        let copied = copy_hashing(&mut data.as_slice(), &mut out, |n| last = n).map_err(|e| format!("{e:?}"))?;
        assert_eq!(out, data);
        assert_eq!(copied.bytes, 200_000);
        assert_eq!(last, 200_000);
        assert_eq!(copied.sha256, sha256_bytes(&data));
        Ok(())
    }
}
