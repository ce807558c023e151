//! A dynamic `nas` plugin that adds the `grid` segmenter: the image is cut into a regular grid of
//! square superpixels of side `size` pixels (default 16), in raster order; cells on the right and
//! bottom edges are cropped when the side does not divide the image. A grid is the usual
//! content-blind baseline that content-aware superpixels (SLIC, NAS) are compared against.
//!
//! Build it with `cargo build --release -p nas-plugin-edges` and load it with
//! `nas --plugin target/release/libnas_plugin_edges.so list`.

use nas_core::ndarray::Array2;
use nas_core::plugin::PluginRegistrar;
use nas_core::{
    Backbone, Batch, ComponentEntry, Context, Factory, NasError, ParamKind, ParamSpec, Params, Result, Segmentation, Segmenter,
};

/// Default side of a grid cell, in pixels.
pub const DEFAULT_SIZE: usize = 16;
/// Largest accepted side: bigger than any image nas accepts (`nas_core::photo::MAX_SIDE`).
pub const MAX_SIZE: usize = 16_384;

/// Parameters of `grid`.
pub const GRID_PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "size",
    kind: ParamKind::Int,
    default: "16",
    doc: "side of each square cell in pixels (1..16384); edge cells are cropped",
}];

/// The `grid` segmenter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    size: usize,
}

impl Grid {
    /// A grid of `size`-pixel cells; `size` must be at least 1.
    pub fn new(size: usize) -> Result<Grid> {
        if size == 0 {
            return Err(NasError::InvalidInput("grid: size must be at least 1".into()));
        }
        Ok(Grid { size })
    }

    /// Side of each cell in pixels.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Labels of an `height x width` image: cell `(row, column)` gets `row * columns + column`,
    /// which is also the raster order in which the cells first appear.
    pub fn labels(&self, height: usize, width: usize) -> Array2<u32> {
        let columns = width.div_ceil(self.size);
        Array2::from_shape_fn((height, width), |(y, x)| ((y / self.size) * columns + x / self.size) as u32)
    }
}

impl Segmenter for Grid {
    fn needs_backbone(&self) -> bool {
        false
    }

    fn segment(&self, batch: &Batch<'_>, _backbone: Option<&dyn Backbone>) -> Result<Vec<Segmentation>> {
        batch
            .photos
            .iter()
            .map(|photo| {
                let (h, w) = (photo.height(), photo.width());
                let cells = h.div_ceil(self.size).saturating_mul(w.div_ceil(self.size));
                if cells > u32::MAX as usize {
                    return Err(NasError::InvalidInput(format!(
                        "grid: {} at size {} gives {cells} cells, more than labels can hold; use a larger size",
                        photo.path.display(),
                        self.size
                    )));
                }
                Ok(Segmentation::from_labels(self.labels(h, w)))
            })
            .collect()
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Segmenter>> {
    let size = params.usize("size", DEFAULT_SIZE, 1, MAX_SIZE)?;
    Ok(Box::new(Grid::new(size)?))
}

/// Registers the plugin's components; called by the host after the handshake succeeded.
pub fn register(registrar: &mut PluginRegistrar) {
    registrar.add(ComponentEntry {
        name: "grid",
        summary: "regular grid of square superpixels (content-blind baseline)",
        params: GRID_PARAMS,
        factory: Factory::Segmenter(build),
    });
}

#[cfg(not(feature = "test-mismatched-core"))]
nas_core::declare_plugin!("nas-plugin-edges", register);

/// The declaration `declare_plugin!` would write, but claiming another nas-core version, so that
/// tests can check that hosts refuse it. Never enable `test-mismatched-core` in a real build.
#[cfg(feature = "test-mismatched-core")]
#[no_mangle]
pub static NAS_PLUGIN_DECLARATION: nas_core::plugin::PluginDeclaration = nas_core::plugin::PluginDeclaration {
    abi_version: nas_core::plugin::ABI_VERSION,
    core_version: nas_core::plugin::FixedText::new("0.0.0-mismatch"),
    rustc_version: nas_core::plugin::FixedText::new(nas_core::plugin::RUSTC_VERSION),
    name: nas_core::plugin::FixedText::new("nas-plugin-edges"),
    register,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_numbered_in_raster_order_and_edges_are_cropped() {
        let labels = Grid::new(2).map(|g| g.labels(3, 5)).unwrap_or_default();
        let expected = nas_core::ndarray::array![[0, 0, 1, 1, 2], [0, 0, 1, 1, 2], [3, 3, 4, 4, 5]];
        assert_eq!(labels, expected);
        let seg = Segmentation::from_labels(labels);
        assert_eq!(seg.count(), 6);
        assert_eq!(seg.sizes(), vec![4, 4, 2, 2, 2, 1]);
    }

    #[test]
    fn zero_size_is_refused() {
        assert!(Grid::new(0).is_err());
    }
}
