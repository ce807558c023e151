//! `nas sanity`: the model parameter randomisation test (see
//! `nas_plugins::model_randomisation`), written as `randomisation.csv` (one row per photo and
//! step) and each step's maps, with the mean similarities per step on stdout.

use super::pipeline::parse_pair;
use super::{backbone_params, open_all, resize};
use crate::cli::{LayerOrder, SanityArgs};
use crate::session::Session;
use nas_core::pipeline::ComponentSpec;
use nas_core::{npy, output, render, NasError, Result};
use nas_plugins::model_randomisation::{similarity, steps, Cascade, Order, Similarity};

/// Runs the command.
pub fn run(session: &Session, args: &SanityArgs) -> Result<()> {
    let ctx = session.context();
    let mut backbone = backbone_params(&args.model);
    let mut method = ComponentSpec::named(&args.method);
    for pair in &args.params {
        let (key, value) = parse_pair(pair)?;
        match key.split_once('.') {
            Some(("backbone", rest)) => backbone.set_path_from_str(rest, value),
            _ => method.params.set_path_from_str(key, value),
        }
    }
    let saliency = session.registry.saliency(&method.name, &method.params, &ctx)?;
    let photos = open_all(&args.images, resize(&args.model))?;
    let refs: Vec<_> = photos.iter().collect();
    let cascade = Cascade {
        backbone: &args.model.backbone,
        params: &backbone,
        seed: args.seed,
        every: args.every as usize,
        order: match args.order {
            LayerOrder::TopDown => Order::TopDown,
            LayerOrder::BottomUp => Order::BottomUp,
            LayerOrder::Independent => Order::Independent,
        },
    };
    let modules = cascade.modules(&ctx)?;
    let steps = steps(&modules, cascade.every, cascade.order).len();
    let bar = session.progress(steps, "randomised steps");
    let targets = args.target.map(|class| vec![class; refs.len()]);
    let results = cascade.run(&ctx, &modules, saliency.as_ref(), &refs, targets.as_deref(), &mut |_| {
        bar.inc(1);
        session.check_stop()
    })?;
    bar.finish_and_clear();
    let trained = results
        .first()
        .ok_or_else(|| NasError::InvalidInput("model randomisation: no steps".into()))?;
    std::fs::create_dir_all(&args.out).map_err(|e| NasError::io(&args.out, e))?;
    let mut rows: Vec<[String; 7]> = Vec::new();
    println!(
        "{:>4}  {:>10}  {:<28} {:>9} {:>12} {:>7}",
        "step", "randomised", "module", "spearman", "spearman_abs", "ssim"
    );
    for (index, result) in results.iter().enumerate() {
        let module = result.step.module.clone().unwrap_or_default();
        let mut similarities: Vec<Similarity> = Vec::new();
        for ((photo, original), map) in photos.iter().zip(&trained.maps).zip(&result.maps) {
            let stem = photo.stem();
            let s = similarity(original, map)?;
            rows.push([
                photo.path.display().to_string(),
                index.to_string(),
                result.step.randomised.to_string(),
                module.clone(),
                s.spearman.to_string(),
                s.spearman_abs.to_string(),
                s.ssim.to_string(),
            ]);
            similarities.push(s);
            let file = format!("{stem}.step{index:03}.{}", args.method);
            npy::write_array(&args.out.join(format!("{file}.npy")), map)?;
            output::write_png(&args.out.join(format!("{file}.png")), &render::heatmap(photo, map))?;
        }
        let mean = |f: fn(&Similarity) -> f64| similarities.iter().map(f).sum::<f64>() / similarities.len().max(1) as f64;
        println!(
            "{index:>4}  {:>10}  {:<28} {:>9.4} {:>12.4} {:>7.4}",
            result.step.randomised,
            module,
            mean(|s| s.spearman),
            mean(|s| s.spearman_abs),
            mean(|s| s.ssim)
        );
    }
    let path = output::write_csv(
        &args.out.join("randomisation.csv"),
        "image,step,randomised,module,spearman,spearman_abs,ssim",
        rows.into_iter(),
    )?;
    println!("results in {} ({})", args.out.display(), path.display());
    Ok(())
}
