//! Built-in segmenters.

pub mod nas;
