//! Built-in saliency methods.

pub mod gradient;
pub mod integrated_gradients;
pub mod quadrature;
