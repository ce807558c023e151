//! Built-in clusterers.

pub mod kmeans;
pub mod ward;
