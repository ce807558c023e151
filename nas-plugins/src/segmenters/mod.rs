//! Built-in segmenters.

pub mod classic;
pub mod dff;
pub mod nas;
pub mod nmf;
