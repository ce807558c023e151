//! `noise-tunnel`: any saliency method averaged over noisy copies of the photo (Captum's
//! `NoiseTunnel` around any attribution: SmoothGrad, SmoothGrad-squared or VarGrad of Integrated
//! Gradients, guided backpropagation, Grad-CAM, LIME, ...). The copies are `smoothgrad`'s (see
//! [`super::noise`]). The inner method's maps are combined as they come, already reduced to 2-D
//! and post-processed: the mean is Captum's result reduced the same way only where that is
//! linear (a signed channel sum, no rectifying or rescaling: so not for `max-abs` or the CAMs'
//! [0, 1] maps); the mean of squares and the variance are taken after the reduction, where
//! Captum takes them per colour channel (`smoothgrad` itself, which works per channel, is the
//! one to use for squared gradient x input).

use super::noise::{NoiseCopies, NOISE_PARAMS};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `noise-tunnel` saliency method.
pub struct NoiseTunnel {
    inner: Box<dyn Saliency>,
    name: String,
    noise: NoiseCopies,
}

/// Parameters of `noise-tunnel`.
pub const NOISE_TUNNEL_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "method",
        kind: ParamKind::Component,
        default: "\"gradient\"",
        doc: "the saliency method run on every noisy copy (name, or a table with name and its parameters)",
    },
    NOISE_PARAMS[0],
    NOISE_PARAMS[1],
    NOISE_PARAMS[2],
    NOISE_PARAMS[3],
    NOISE_PARAMS[4],
    NOISE_PARAMS[5],
];

impl NoiseTunnel {
    /// Builds from `noise-tunnel` parameters (see [`NOISE_TUNNEL_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<NoiseTunnel> {
        let (name, inner) = super::inner_method(params, "method", "gradient", ctx)?;
        Ok(NoiseTunnel {
            inner,
            name,
            noise: NoiseCopies::from_params(params)?,
        })
    }
}

impl Saliency for NoiseTunnel {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = super::photos_with_targets("noise-tunnel", input, targets)?;
        let task = nas_core::progress::task("noise-tunnel copies", (photos.len() * self.noise.samples) as u64);
        photos
            .iter()
            .map(|(photo, target)| {
                let [_, _, h, w] = photo.dims();
                let (mut sum, mut squares) = (Array2::<f64>::zeros((h, w)), Array2::<f64>::zeros((h, w)));
                for copies in self.noise.batches() {
                    task.check()?;
                    let n = copies.len();
                    let maps = self.inner.explain(backbone, &self.noise.noisy(photo, copies), &vec![*target; n])?;
                    if maps.len() != n || maps.iter().any(|m| m.dim() != (h, w)) {
                        return Err(NasError::InvalidInput(format!(
                            "noise-tunnel: `{}` gave {} maps for {n} noisy {h}x{w} copies",
                            self.name,
                            maps.len()
                        )));
                    }
                    for map in &maps {
                        sum.zip_mut_with(map, |s, v| *s += f64::from(*v));
                        squares.zip_mut_with(map, |s, v| *s += f64::from(*v) * f64::from(*v));
                    }
                    task.advance(n as u64);
                }
                let (n, aggregate) = (self.noise.samples as f64, self.noise.aggregate);
                Ok(nas_core::ndarray::Zip::from(&sum)
                    .and(&squares)
                    .map_collect(|s, q| aggregate.combine(*s, *q, n) as f32))
            })
            .collect()
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(NoiseTunnel::from_params(params, ctx)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "noise-tunnel",
        summary: "any method's maps averaged over noisy copies of the photo (Captum's NoiseTunnel: smoothgrad, smoothgrad_sq or vargrad), seeded",
        params: NOISE_TUNNEL_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
