//! `random-cam`: a depth level's channels weighted by random numbers, uniform in `[-1, 1]`
//! (pytorch-grad-cam's `RandomCAM`): a baseline that knows nothing of the class or the network's
//! reasons, against which metrics show what a real method adds. The weights are NumPy's
//! `np.random.uniform(-1, 1, channels)` after `np.random.seed(seed)`, as pytorch-grad-cam draws
//! them from the global state, so a seed gives its weights (each photo starts from the seed;
//! several levels draw in turn, in the order listed).

use super::cam::{combine_channels, level_of, multi_level_cams, weight_channels, LevelCam, EIGEN_SMOOTH_PARAM, LEVEL_PARAM};
use crate::numpy_random::NumpyRandom;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `random-cam` saliency method.
pub struct RandomCam {
    levels: Vec<usize>,
    eigen_smooth: bool,
    seed: u32,
}

/// Parameters of `random-cam`.
pub const RANDOM_CAM_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    EIGEN_SMOOTH_PARAM,
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "np.random.seed before each photo's weights",
    },
];

impl Saliency for RandomCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let forward = backbone.forward(input.clone());
        let mut generators: Vec<NumpyRandom> = (0..input.dims()[0]).map(|_| NumpyRandom::new(self.seed)).collect();
        multi_level_cams(&self.levels, input.dims(), |level| {
            let activation = level_of("random-cam", &forward, level)?;
            let [_, channels, h, w] = activation.dims();
            let values = to_host(activation)?;
            values
                .chunks_exact((channels * h * w).max(1))
                .zip(&mut generators)
                .map(|(image, generator)| {
                    let weights: Vec<f32> = (0..channels).map(|_| generator.uniform(-1.0, 1.0) as f32).collect();
                    Ok(LevelCam {
                        values: combine_channels(&weight_channels(image, &weights, h * w), h * w, self.eigen_smooth),
                        grid: [h, w],
                    })
                })
                .collect()
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(RandomCam {
        levels: super::cam::cam_levels(params)?,
        eigen_smooth: super::cam::eigen_smooth(params)?,
        seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "random-cam",
        summary: "Random-CAM: a depth level's channels weighted by seeded uniform numbers in [-1, 1], a baseline that ignores the class (pytorch-grad-cam's RandomCAM), scaled to [0, 1]",
        params: RANDOM_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
