//! The reference photos that GradientSHAP and DeepLift(SHAP) compare a photo with.

use nas_core::{BackboneInfo, NasTensor, Params, Result};

/// A set of baselines (references), each a photo's worth of one flat colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineSet {
    /// Zero in the normalised input space (the dataset's mean colour; Captum's default).
    Zero,
    /// A black photo.
    Black,
    /// A white photo.
    White,
    /// A black photo and a white one.
    BlackWhite,
}

impl BaselineSet {
    /// The set named by the `baselines` parameter, `default` when it is absent.
    pub fn from_params(params: &Params, default: &str) -> Result<BaselineSet> {
        Ok(
            match params
                .choice("baselines", default, &["black-white", "zero", "black", "white"])?
                .as_str()
            {
                "zero" => BaselineSet::Zero,
                "black" => BaselineSet::Black,
                "white" => BaselineSet::White,
                _ => BaselineSet::BlackWhite,
            },
        )
    }

    /// The baselines shaped like `photo` `(1, 3, h, w)`, in the normalised space of `info`, in
    /// the order Captum is given them (black before white).
    pub fn tensors(self, info: &BackboneInfo, photo: &NasTensor<4>) -> Vec<NasTensor<4>> {
        let flat = |pixel: f32| super::colour_tensor(info, pixel, &photo.device()).expand(photo.dims());
        match self {
            BaselineSet::Zero => vec![photo.zeros_like()],
            BaselineSet::Black => vec![flat(0.0)],
            BaselineSet::White => vec![flat(1.0)],
            BaselineSet::BlackWhite => vec![flat(0.0), flat(1.0)],
        }
    }
}
