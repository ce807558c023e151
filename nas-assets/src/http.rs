//! HTTP access: one configured client, small text fetches, and streamed,
//! hashed file downloads with a progress bar.
//!
//! TLS is verified against the operating system's certificate store (through
//! `rustls-platform-verifier`), so machines whose traffic passes through a
//! corporate TLS-inspecting proxy work when that proxy's CA is installed
//! system-wide. Proxies are taken from `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY`
//! and `NO_PROXY`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tempfile::NamedTempFile;
use ureq::tls::{RootCerts, TlsConfig};
use ureq::{Agent, ResponseExt};

use crate::error::AssetError;
use crate::hash::{copy_hashing, CopyError};

/// Largest index page accepted, to bound memory use on a misbehaving server.
const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Builds the HTTP client used for every request of this crate.
pub(crate) fn agent() -> Agent {
    let tls = TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build();
    let config = Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // Bounds a stalled transfer; generous enough for the largest asset
        // (17 MB) on a ~10 kB/s link.
        .timeout_recv_body(Some(Duration::from_secs(30 * 60)))
        .user_agent(concat!("nas-assets/", env!("CARGO_PKG_VERSION")))
        .build();
    Agent::new_with_config(config)
}

/// A text response: its body, content type and final URL (after redirects).
#[derive(Debug)]
pub(crate) struct Page {
    /// The response body.
    pub body: String,
    /// The `Content-Type` header, or empty.
    pub content_type: String,
    /// The URL the body came from, after following redirects.
    pub url: String,
}

/// GETs `url` with the given `Accept` header and returns the body as text.
pub(crate) fn get_text(agent: &Agent, url: &str, accept: &str) -> Result<Page, AssetError> {
    let mut resp = agent.get(url).header("Accept", accept).call().map_err(|e| network(url, e))?;
    check_status(url, resp.status().as_u16())?;
    let final_url = resp.get_uri().to_string();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_PAGE_BYTES)
        .read_to_string()
        .map_err(|e| network(url, e))?;
    Ok(Page {
        body,
        content_type,
        url: final_url,
    })
}

/// A finished download, not yet verified against a pinned hash.
#[derive(Debug)]
pub(crate) struct Downloaded {
    /// The temporary file holding the bytes (deleted when dropped).
    pub file: NamedTempFile,
    /// Number of bytes received.
    pub bytes: u64,
    /// Lower-case hex sha256 of the bytes.
    pub sha256: String,
}

/// Streams `url` into `file`, hashing as it goes and showing a progress bar
/// labelled `label` on a terminal. The caller verifies size and hash.
pub(crate) fn download(
    agent: &Agent,
    url: &str,
    expected_size: Option<u64>,
    mut file: NamedTempFile,
    label: &str,
) -> Result<Downloaded, AssetError> {
    let mut resp = agent.get(url).call().map_err(|e| network(url, e))?;
    check_status(url, resp.status().as_u16())?;
    let total = expected_size.or_else(|| resp.body().content_length());
    let bar = progress_bar(total, label);
    let mut reader = resp.body_mut().as_reader();
    let copied = copy_hashing(&mut reader, file.as_file_mut(), |n| bar.set_position(n));
    bar.finish_and_clear();
    let copied = copied.map_err(|e| match e {
        CopyError::Read { received, source } => AssetError::Interrupted {
            url: url.to_owned(),
            received,
            source,
        },
        CopyError::Write(source) => AssetError::CacheUnwritable {
            path: file.path().to_path_buf(),
            source,
        },
    })?;
    file.as_file().sync_all().map_err(|source| AssetError::CacheUnwritable {
        path: file.path().to_path_buf(),
        source,
    })?;
    Ok(Downloaded {
        file,
        bytes: copied.bytes,
        sha256: copied.sha256,
    })
}

fn check_status(url: &str, status: u16) -> Result<(), AssetError> {
    if status == 200 {
        Ok(())
    } else {
        Err(AssetError::HttpStatus {
            url: url.to_owned(),
            status,
        })
    }
}

fn network(url: &str, e: ureq::Error) -> AssetError {
    AssetError::Network {
        url: url.to_owned(),
        source: Box::new(e),
    }
}

/// A byte progress bar on stderr, or a hidden one when stderr is not a
/// terminal (logs, CI).
fn progress_bar(total: Option<u64>, label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = if total.is_some() {
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{msg} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(format!("downloading {label}"));
    bar
}
