//! `sobel-cam`: the photo's edges, pytorch-grad-cam's `sobel_cam` baseline (Adebayo et al. 2018
//! showed edge detectors resemble many saliency maps; a method that scores no better than its
//! photo's edges explains little of the network). As OpenCV computes it there: the uint8 photo
//! to grey (`COLOR_RGB2GRAY`, its fixed-point weights), 3x3 Sobel derivatives in x and y with
//! the border reflected (`BORDER_REFLECT_101`), each made absolute and saturated to uint8
//! (`convertScaleAbs`), then averaged (`addWeighted` 0.5, 0.5, rounded half to even); the map is
//! that uint8 image divided by 255. It ignores the network and the class.

use super::opencv::reflect;
use nas_core::backbone::denormalise;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamSpec, Params, Result, Saliency};

/// `sobel-cam` has no parameters.
pub const SOBEL_CAM_PARAMS: &[ParamSpec] = &[];

/// The `sobel-cam` saliency method.
pub struct SobelCam;

/// OpenCV's grey value of a uint8 RGB pixel, in its 15-bit fixed point: `(9798 R + 19235 G +
/// 3735 B + 2^14) >> 15` (the weights 0.299, 0.587, 0.114; OpenCV 5's 8-bit path, which matched
/// `cv2.cvtColor` on every colour of the six shared photos).
fn grey([r, g, b]: [u8; 3]) -> i32 {
    (9798 * i32::from(r) + 19235 * i32::from(g) + 3735 * i32::from(b) + (1 << 14)) >> 15
}

/// The edge map of a grey image `(h, w)`, uint8 values as OpenCV gives them.
fn sobel_edges(grey: &Array2<i32>) -> Array2<u8> {
    let (h, w) = grey.dim();
    let at = |y: isize, x: isize| grey[[reflect(y, h), reflect(x, w)]];
    Array2::from_shape_fn((h, w), |(y, x)| {
        let (y, x) = (y as isize, x as isize);
        let column = |dx: isize| at(y - 1, x + dx) + 2 * at(y, x + dx) + at(y + 1, x + dx);
        let row = |dy: isize| at(y + dy, x - 1) + 2 * at(y + dy, x) + at(y + dy, x + 1);
        let gx = (column(1) - column(-1)).abs().min(255);
        let gy = (row(1) - row(-1)).abs().min(255);
        // (gx + gy) / 2 rounded half to even, as OpenCV's saturate_cast.
        let sum = gx + gy;
        let half = sum / 2;
        (if sum % 2 == 1 && half % 2 == 1 { half + 1 } else { half }) as u8
    })
}

impl Saliency for SobelCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [_, channels, h, w] = input.dims();
        if channels != 3 {
            return Err(NasError::InvalidInput(format!("sobel-cam: {channels} channels, expected RGB")));
        }
        let values = to_host(input.clone())?;
        Ok(values
            .chunks_exact((3 * h * w).max(1))
            .map(|image| {
                let pixels = denormalise(image, backbone.info(), [h, w]);
                let byte = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
                let grey = Array2::from_shape_fn((h, w), |(y, x)| {
                    grey([byte(pixels[[y, x, 0]]), byte(pixels[[y, x, 1]]), byte(pixels[[y, x, 2]])])
                });
                sobel_edges(&grey).mapv(|v| f32::from(v) / 255.0)
            })
            .collect())
    }
}

fn build(_params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(SobelCam))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "sobel-cam",
        summary: "pytorch-grad-cam's SobelCAM baseline: the photo's Sobel edges, blind to the network and the class",
        params: SOBEL_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
