//! `nas features`: the five depth levels and the logits of each image as float32 .npy files.

use super::{load_backbone, open_all, resize};
use crate::cli::FeaturesArgs;
use crate::session::Session;
use crate::throughput::Throughput;
use nas_core::backbone::normalise;
use nas_core::{npy, NasError, Result};

fn values<const D: usize>(t: nas_core::NasTensor<D>) -> Result<Vec<f32>> {
    t.into_data().to_vec().map_err(|e| NasError::InvalidInput(format!("{e:?}")))
}

/// Runs the command.
pub fn run(session: &Session, args: &FeaturesArgs) -> Result<()> {
    let backbone = load_backbone(session, &args.model)?;
    let bar = session.progress(args.images.len(), "features");
    let mut clock = Throughput::start(args.model.batch.max(1).min(args.images.len()));
    for chunk in args.images.chunks(args.model.batch.max(1)) {
        session.check_stop()?;
        let photos = open_all(chunk, resize(&args.model)?)?;
        let refs: Vec<_> = photos.iter().collect();
        let input = normalise(&refs, backbone.info(), backbone.device())?;
        let forward = backbone.forward(input.detach());
        for (i, photo) in photos.iter().enumerate() {
            let stem = photo.stem();
            for (l, level) in forward.levels.iter().enumerate() {
                let one = level.clone().narrow(0, i, 1);
                let dims = one.dims();
                npy::write(&args.out.join(format!("{stem}.level{l}.npy")), &dims[1..], &values(one)?)?;
            }
            let logits = forward.logits.clone().narrow(0, i, 1);
            let classes = logits.dims()[1];
            npy::write(&args.out.join(format!("{stem}.logits.npy")), &[classes], &values(logits)?)?;
            bar.inc(1);
            clock.image_done();
        }
    }
    bar.finish_and_clear();
    eprintln!("wrote features of {} image(s) to {}", args.images.len(), args.out.display());
    if let Some(line) = clock.report() {
        eprintln!("{line}");
    }
    Ok(())
}
