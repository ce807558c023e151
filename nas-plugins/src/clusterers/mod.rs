//! Built-in clusterers.

pub mod kmeans;
pub mod kmeans_batch;
pub mod knn;
pub mod ward;
