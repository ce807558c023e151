//! `nas predict`: the top-5 classes of each image.

use super::{load_backbone, open_all, resize};
use crate::cli::PredictArgs;
use crate::session::Session;
use nas_core::backbone::normalise;
use nas_core::burn::tensor::activation::softmax;
use nas_core::imagenet::class_name;
use nas_core::{NasError, Result};

/// Runs the command.
pub fn run(session: &Session, args: &PredictArgs) -> Result<()> {
    let backbone = load_backbone(session, &args.model)?;
    let bar = session.progress(args.images.len(), "predict");
    for chunk in args.images.chunks(args.model.batch.max(1)) {
        session.check_stop()?;
        let photos = open_all(chunk, resize(&args.model)?)?;
        let refs: Vec<_> = photos.iter().collect();
        let input = normalise(&refs, backbone.info(), backbone.device())?;
        let probs = softmax(backbone.forward(input.detach()).logits, 1);
        let classes = probs.dims()[1];
        let values: Vec<f32> = probs.into_data().to_vec().map_err(|e| NasError::InvalidInput(format!("{e:?}")))?;
        for (photo, row) in photos.iter().zip(values.chunks_exact(classes)) {
            let mut order: Vec<usize> = (0..classes).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            let top: Vec<(usize, &str, f32)> = order.iter().take(5).map(|&c| (c, class_name(c).unwrap_or("?"), row[c])).collect();
            if args.json {
                let top5: Vec<_> = top
                    .iter()
                    .map(|(c, n, p)| serde_json::json!({"class": c, "name": n, "score": p}))
                    .collect();
                println!("{}", serde_json::json!({"image": photo.path.display().to_string(), "top5": top5}));
            } else {
                println!("{}", photo.path.display());
                for (c, n, p) in top {
                    println!("  {c:>4}  {p:>6.3}  {n}");
                }
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(())
}
