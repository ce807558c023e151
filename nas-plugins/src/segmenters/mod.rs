//! Built-in segmenters.

pub mod classic;
pub mod nas;
