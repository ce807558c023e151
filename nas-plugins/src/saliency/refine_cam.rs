//! `refine-cam`: a CAM method run at several depth levels, one level at a time, and the finished
//! maps multiplied (pytorch-grad-cam's `RefineCAM`, Grad-CAM++ by default): a region stays bright
//! only where every level agrees, which quiets the noise of shallow levels while keeping their
//! resolution. The product is scaled to `[0, 1]`.

use super::cam::scale_to_unit;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, Kind, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency, LEVELS};

/// The `refine-cam` saliency method.
pub struct RefineCam {
    /// The inner method built for each level, with the level's name for errors.
    per_level: Vec<(usize, Box<dyn Saliency>)>,
    name: String,
}

/// Parameters of `refine-cam`.
pub const REFINE_CAM_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "method",
        kind: ParamKind::Component,
        default: "\"grad-cam-plus-plus\"",
        doc: "the CAM method run at each level (name, or a table with name and its parameters; its own `level` is set per level)",
    },
    ParamSpec {
        name: "levels",
        kind: ParamKind::IntList,
        default: "[2, 3, 4]",
        doc: "depth levels whose finished maps are multiplied (pytorch-grad-cam's target_layers)",
    },
];

impl RefineCam {
    /// Builds from `refine-cam` parameters (see [`REFINE_CAM_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<RefineCam> {
        let (name, inner_params) = params.component_param("method", "grad-cam-plus-plus")?;
        if !ctx
            .registry
            .entry(Kind::Saliency, &name)?
            .params
            .iter()
            .any(|spec| spec.name == "level")
        {
            return Err(params.error("method", format!("\"{name}\""), "a CAM method, one with a `level` parameter"));
        }
        if inner_params.contains("level") {
            return Err(params.error("method.level", "a level", "no level: refine-cam sets each of `levels` in turn"));
        }
        let top = (LEVELS - 1) as i64;
        let levels = params.int_list("levels", &[2, 3, top], 0, top)?;
        let per_level = levels
            .into_iter()
            .map(|level| {
                let mut table = inner_params.table().clone();
                table.insert("level".into(), toml::Value::Integer(level));
                let inner = ctx.registry.saliency(&name, &Params::new(name.clone(), table), ctx)?;
                Ok((level as usize, inner))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RefineCam { per_level, name })
    }
}

impl Saliency for RefineCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [batch, _, h, w] = input.dims();
        let mut products: Vec<Array2<f32>> = (0..batch).map(|_| Array2::ones((h, w))).collect();
        for (level, inner) in &self.per_level {
            let maps = inner.explain(backbone, input, targets)?;
            if maps.len() != batch || maps.iter().any(|m| m.dim() != (h, w)) {
                return Err(NasError::InvalidInput(format!(
                    "refine-cam: `{}` at level {level} gave {} maps for {batch} {h}x{w} photos",
                    self.name,
                    maps.len()
                )));
            }
            products.iter_mut().zip(&maps).for_each(|(product, map)| *product *= map);
        }
        for product in &mut products {
            if let Some(values) = product.as_slice_mut() {
                scale_to_unit(values);
            }
        }
        Ok(products)
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(RefineCam::from_params(params, ctx)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "refine-cam",
        summary: "RefineCAM: a CAM method's finished maps at several depth levels multiplied (pytorch-grad-cam's RefineCAM, Grad-CAM++ at levels 2, 3, 4 by default), scaled to [0, 1]",
        params: REFINE_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
