//! Built-in saliency methods.

pub mod grad_cam;
pub mod gradient;
pub mod integrated_gradients;
pub mod quadrature;
pub mod rise;
pub mod xrai;
