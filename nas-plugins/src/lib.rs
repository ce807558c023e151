//! nas-plugins: the built-in components of nas (backbones, segmenters, clusterers, saliency
//! methods, metrics). Each registers itself in the `nas-core` registry when linked.

pub mod assets;
pub mod backbones;
pub mod classwise;
pub mod clusterers;
pub mod metrics;
pub mod model_randomisation;
pub mod numpy_random;
pub mod saliency;
pub mod segmenters;
pub mod torch_random;

/// Makes sure the linker keeps this crate's registrations (call once from the binary).
pub fn link() {}
