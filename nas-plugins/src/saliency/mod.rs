//! Built-in saliency methods.

pub mod gradient;
