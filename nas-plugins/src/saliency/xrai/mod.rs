//! XRAI (Kapishnikov et al. 2019), as the PAIR saliency library computes it: Integrated
//! Gradients from a black and a white baseline (the input's smallest and largest value, 100
//! evenly spaced steps from 0 to 1, weighted equally), averaged and reduced to the largest of the
//! three colour channels, then ranked over Felzenszwalb regions of the photo (see [`regions`]).

pub mod regions;

use super::integrated_gradients::IntegratedGradients;
use super::quadrature::Quadrature;
use nas_core::backbone::denormalise;
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};
use regions::RegionParams;

/// The `xrai` saliency method.
pub struct Xrai {
    gradients: IntegratedGradients,
    regions: RegionParams,
}

/// Parameters of `xrai`.
pub const XRAI_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "steps",
        kind: ParamKind::Int,
        default: "100",
        doc: "Integrated Gradients steps per baseline (two baselines: black and white)",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "10",
        doc: "path points per backward pass",
    },
    ParamSpec {
        name: "dilation",
        kind: ParamKind::Int,
        default: "5",
        doc: "radius of the disk each Felzenszwalb segment is dilated by, in pixels",
    },
    ParamSpec {
        name: "min_new_pixels",
        kind: ParamKind::Int,
        default: "50",
        doc: "a region adding fewer new pixels than this is dropped (PAIR's min_pixel_diff)",
    },
];

impl Xrai {
    /// Builds from `xrai` parameters (see [`XRAI_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<Xrai> {
        let steps = params.usize("steps", 100, 2, 100_000)?;
        Ok(Xrai {
            gradients: IntegratedGradients::new(steps, Quadrature::Linspace, params.usize("batch", 10, 1, 10_000)?),
            regions: RegionParams {
                dilation: params.usize("dilation", 5, 0, 100)?,
                min_new_pixels: params.usize("min_new_pixels", 50, 1, usize::MAX)?,
                ..RegionParams::default()
            },
        })
    }
}

impl Saliency for Xrai {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = super::photos_with_targets("xrai", input, targets)?;
        let task = nas_core::progress::task("XRAI integrated gradients", (2 * photos.len() * self.gradients.steps()) as u64);
        photos
            .into_iter()
            .map(|(one, target)| {
                let [_, channels, h, w] = one.dims();
                // Black and white: the input's extreme values, constant.
                let values = to_host(one.clone())?;
                let (least, most) = values
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
                let constant =
                    |v: f32| NasTensor::<4>::from_data(TensorData::new(vec![v; values.len()], [1, channels, h, w]), &one.device());
                let dark = self.gradients.attribute(backbone, one.clone(), constant(least), target, &task)?;
                let light = self.gradients.attribute(backbone, one.clone(), constant(most), target, &task)?;
                let attribution = to_host(((dark + light) / 2.0).max_dim(1))?;
                let attribution = Array2::from_shape_vec((h, w), attribution).map_err(|e| NasError::InvalidInput(e.to_string()))?;
                let candidates = regions::regions(denormalise(&values, backbone.info(), [h, w]).view(), &self.regions)?;
                Ok(regions::rank(&attribution, &candidates, self.regions.min_new_pixels))
            })
            .collect()
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(Xrai::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "xrai",
        summary: "XRAI: Integrated Gradients ranked over Felzenszwalb regions of the photo (the PAIR library's algorithm)",
        params: XRAI_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
