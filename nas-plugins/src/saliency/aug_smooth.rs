//! `aug-smooth`: any saliency method averaged over augmented copies of the photo, mirrored and
//! brightened (pytorch-grad-cam's `aug_smooth=True`: ttach's `HorizontalFlip` times
//! `Multiply(factors=[0.9, 1, 1.1])`, six copies). Each copy is explained for the photo's target,
//! its map mirrored back where the copy was mirrored, and the maps are averaged as they come
//! (finished: a CAM's map is already scaled to `[0, 1]`, as in pytorch-grad-cam).
//! pytorch-grad-cam re-picks each copy's top class when it is given no targets; here every copy
//! explains the photo's target, as it does when given one.

use nas_core::ndarray::{s, Array2};
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `aug-smooth` saliency method.
pub struct AugSmooth {
    inner: Box<dyn Saliency>,
    name: String,
    /// The copies: mirrored or not, and the factor the normalised photo is multiplied by.
    copies: Vec<(bool, f32)>,
}

/// Parameters of `aug-smooth`.
pub const AUG_SMOOTH_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "method",
        kind: ParamKind::Component,
        default: "\"grad-cam\"",
        doc: "the saliency method run on every augmented copy (name, or a table with name and its parameters)",
    },
    ParamSpec {
        name: "flip",
        kind: ParamKind::Bool,
        default: "true",
        doc: "also explain the mirrored photo, each factor (ttach's HorizontalFlip)",
    },
    ParamSpec {
        name: "factors",
        kind: ParamKind::FloatList,
        default: "[0.9, 1.0, 1.1]",
        doc: "factors the normalised photo is multiplied by, one copy each (ttach's Multiply; 1 is added when missing, as there)",
    },
];

impl AugSmooth {
    /// Builds from `aug-smooth` parameters (see [`AUG_SMOOTH_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<AugSmooth> {
        let (name, inner) = super::inner_method(params, "method", "grad-cam", ctx)?;
        let mut factors = params.float_list("factors")?.unwrap_or_else(|| vec![0.9, 1.0, 1.1]);
        // ttach's Multiply always keeps the photo as it is.
        if !factors.contains(&1.0) {
            factors.insert(0, 1.0);
        }
        let mirrors: &[bool] = if params.bool("flip", true)? { &[false, true] } else { &[false] };
        let copies = mirrors
            .iter()
            .flat_map(|&mirror| factors.iter().map(move |&factor| (mirror, factor as f32)))
            .collect();
        Ok(AugSmooth { inner, name, copies })
    }
}

impl Saliency for AugSmooth {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = super::photos_with_targets("aug-smooth", input, targets)?;
        let task = nas_core::progress::task("aug-smooth copies", (photos.len() * self.copies.len()) as u64);
        photos
            .iter()
            .map(|(photo, target)| {
                task.check()?;
                let [_, _, h, w] = photo.dims();
                let copies: Vec<NasTensor<4>> = self
                    .copies
                    .iter()
                    .map(|&(mirror, factor)| if mirror { photo.clone().flip([3]) } else { photo.clone() } * factor)
                    .collect();
                let n = copies.len();
                let maps = self.inner.explain(backbone, &NasTensor::cat(copies, 0), &vec![*target; n])?;
                if maps.len() != n || maps.iter().any(|m| m.dim() != (h, w)) {
                    return Err(NasError::InvalidInput(format!(
                        "aug-smooth: `{}` gave {} maps for {n} augmented {h}x{w} copies",
                        self.name,
                        maps.len()
                    )));
                }
                let mut sum = Array2::<f64>::zeros((h, w));
                for (map, &(mirror, _)) in maps.iter().zip(&self.copies) {
                    let map = if mirror { map.slice(s![.., ..;-1]) } else { map.view() };
                    sum.zip_mut_with(&map, |s, v| *s += f64::from(*v));
                }
                task.advance(n as u64);
                Ok(sum.mapv(|s| (s / n as f64) as f32))
            })
            .collect()
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(AugSmooth::from_params(params, ctx)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "aug-smooth",
        summary: "any method's maps averaged over mirrored and brightened copies of the photo (pytorch-grad-cam's aug_smooth: six copies)",
        params: AUG_SMOOTH_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
