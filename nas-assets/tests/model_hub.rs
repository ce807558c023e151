//! Downloads from a model hub that names files after their content (torchvision's layout),
//! served by a local HTTP server: a file whose sha256 starts with its name's prefix is kept in
//! the cache's weights folder (and not fetched again), one whose content differs is refused with
//! the URL and both hashes and leaves nothing behind, a missing one reports the HTTP status, and
//! offline mode never connects.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{assert_no_partial_files, files_under, TestResult};
use nas_assets::hash::sha256_bytes;
use nas_assets::model_hub::download_named;
use nas_assets::{AssetError, Cache};

/// Serves `files` (path -> body) over HTTP/1.1 on 127.0.0.1 until the test ends; 404 for other
/// paths. Returns the base URL and the count of requests answered.
fn serve(files: HashMap<String, Vec<u8>>) -> std::io::Result<(String, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}/models", listener.local_addr()?);
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("");
            let mut stream = &stream;
            let reply = match files.get(path) {
                Some(body) => {
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body))
                }
                None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            };
            if reply.is_ok() {
                count.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    Ok((base, served))
}

/// A file name carrying the first ten hex digits of `content`'s sha256, as torchvision's do.
fn named(stem: &str, content: &[u8]) -> String {
    format!("{stem}-{}.pth", &sha256_bytes(content)[..10])
}

#[test]
fn a_file_matching_its_name_is_kept_and_not_fetched_again() -> TestResult {
    let content = b"pretend these are trained weights".to_vec();
    let file = named("net", &content);
    let (base, served) = serve(HashMap::from([(format!("/models/{file}"), content.clone())]))?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    let path = download_named(&base, &file, &cache)?;
    assert_eq!(path, tmp.path().join("weights").join(&file));
    assert_eq!(std::fs::read(&path)?, content);
    assert_eq!(download_named(&base, &file, &cache)?, path);
    assert_eq!(served.load(Ordering::SeqCst), 1, "the cached file is verified, not fetched again");
    assert_no_partial_files(tmp.path());
    Ok(())
}

#[test]
fn content_that_does_not_match_its_name_is_refused_and_not_kept() -> TestResult {
    let file = named("net", b"the published weights");
    let (base, _) = serve(HashMap::from([(format!("/models/{file}"), b"something else".to_vec())]))?;
    let tmp = tempfile::tempdir()?;
    let err = download_named(&base, &file, &Cache::new(tmp.path())).expect_err("a mismatch");
    let text = err.to_string();
    assert!(matches!(err, AssetError::Sha256Mismatch { .. }), "{text}");
    assert!(text.contains(&file) && text.contains(&sha256_bytes(b"something else")), "{text}");
    assert!(
        files_under(tmp.path()).is_empty(),
        "nothing is left behind: {:?}",
        files_under(tmp.path())
    );
    Ok(())
}

#[test]
fn missing_files_unnamed_hashes_and_offline_mode_are_reported() -> TestResult {
    let (base, served) = serve(HashMap::new())?;
    let tmp = tempfile::tempdir()?;
    let file = named("net", b"weights");
    let missing = download_named(&base, &file, &Cache::new(tmp.path())).expect_err("404");
    assert!(matches!(missing, AssetError::HttpStatus { status: 404, .. }), "{missing}");
    let unnamed = download_named(&base, "mine.pth", &Cache::new(tmp.path())).expect_err("no prefix");
    assert!(unnamed.to_string().contains("mine.pth"), "{unnamed}");
    let before = served.load(Ordering::SeqCst);
    let offline = download_named(&base, &file, &Cache::new(tmp.path()).with_offline(true)).expect_err("offline");
    let text = offline.to_string();
    assert!(text.contains("NAS_OFFLINE") && text.contains(&file), "{text}");
    assert_eq!(served.load(Ordering::SeqCst), before, "offline mode does not connect");
    assert_no_partial_files(tmp.path());
    Ok(())
}
