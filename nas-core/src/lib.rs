//! nas-core: the traits, data types, registry, TOML pipelines and errors of `nas`, a framework
//! for Neuro-Activated Superpixels and superpixel explanations of image classifiers.
//!
//! Heavy built-ins (networks, clusterers, saliency methods) live in `nas-plugins`; this crate only
//! defines how they fit together, so that third-party plugins depend on it alone.

pub mod allocation;
pub mod annotation;
pub mod backbone;
pub mod comparison;
pub mod component;
pub mod dataset;
pub mod deletion;
pub mod device;
pub mod differentiable;
pub mod error;
pub mod imagenet;
pub mod mersenne_twister;
pub mod npy;
pub mod output;
pub mod params;
pub mod photo;
pub mod pipeline;
pub mod plugin;
pub mod progress;
pub mod python_random;
pub mod random_weights;
pub mod registry;
pub mod render;
pub mod report;
pub mod segmentation;
pub mod significance;
pub mod torch_pickle;
pub mod upsampled;
pub mod upsampled_batch;
pub mod weights;

pub use annotation::{Annotation, BoundingBox, PixelMask, PixelTruth, Sample};
pub use backbone::{Backbone, BackboneInfo, BiasGradient, Forward, Gradient, LevelHook, Neuron, Objective, ReluGradient, LEVELS};
pub use component::{Batch, Clusterer, Explainer, Features, Metric, MetricInput, Saliency, Score, Segmenter, Statistic};
pub use dataset::{DatasetSpec, Images, Source};
pub use device::{Backend, Device, NasTensor};
pub use error::{NasError, Result};
pub use params::{ParamKind, ParamSpec, Params};
pub use photo::{Photo, Resize, ResizeGeometry};
pub use registry::{ComponentEntry, Context, Factory, Kind, Registry};
pub use segmentation::{connected_components, superpixelify, Segmentation};

pub use burn;
pub use inventory;
pub use ndarray;
