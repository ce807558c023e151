//! Clustering for Neuro-Activated Superpixels (NAS).
//!
//! NAS clusters the pixels of an image by the activations a classifier computes for them: a
//! `pixels x features` matrix is grouped into K clusters, and the superpixels are the
//! connected components of each cluster. This crate holds the algorithms, free of any
//! framework type:
//!
//! - [`kmeans`]: k-means++ and Lloyd with scikit-learn's semantics, fast, and independent of
//!   the number of threads;
//! - [`ward`]: exact Ward linkage (as scikit-learn's `AgglomerativeClustering(linkage='ward')`),
//!   one tree cut at several K, with [`is_nested`] to check the cuts;
//! - [`connected_components`]: superpixels of a label map (4- or 8-connectivity);
//! - [`consensus`]: co-association consensus of several clusterings, and
//!   [`mean_pairwise_ari`] for their stability;
//! - [`adjusted_rand_index`]: scikit-learn's `adjusted_rand_score`.
//!
//! Every function returns [`ClusterError`] on bad input instead of panicking. Design notes,
//! parity with scikit-learn and timings: `docs/clustering.md` in the repository.

#![warn(missing_docs)]

mod components;
mod consensus;
mod error;
mod kernels;
mod kmeans;
mod linkage;
mod rand_index;
mod validate;
mod ward;

pub use components::{connected_components, connected_components_with, Connectivity};
pub use consensus::{consensus, mean_pairwise_ari, ConsensusParams};
pub use error::ClusterError;
pub use kmeans::{kmeans, Clustering, KMeansParams};
pub use linkage::Linkage;
pub use rand_index::adjusted_rand_index;
pub use ward::{is_nested, ward, WARD_DEFAULT_MAX_SAMPLES};
