//! `nas sanity`: the model parameter randomisation test (see
//! `nas_plugins::model_randomisation`), written as `randomisation.csv` (one row per photo and
//! step: three similarities with the trained network's map and EfficientMPRT's entropy rise),
//! each step's maps and `randomisation.html` (the mean similarities per step as a plot and a
//! table, and the maps step by step), with the means on stdout.

use super::pipeline::parse_pair;
use super::{backbone_params, open_all, resize};
use crate::cli::{LayerOrder, SanityArgs};
use crate::session::Session;
use clap::ValueEnum;
use nas_core::pipeline::ComponentSpec;
use nas_core::report::{escape, line_plot, url_path};
use nas_core::{npy, output, render, NasError, Result};
use nas_plugins::model_randomisation::{similarity, steps, Order, Randomisation, Similarity};

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
    let photos = open_all(&args.images, resize(&args.model)?)?;
    let refs: Vec<_> = photos.iter().collect();
    let randomisation = Randomisation {
        backbone: &args.model.backbone,
        params: &backbone,
        seed: args.seed,
        every: args.every as usize,
        order: match args.order {
            LayerOrder::TopDown => Order::TopDown,
            LayerOrder::BottomUp => Order::BottomUp,
            LayerOrder::Independent => Order::Independent,
        },
        batch: args.model.batch.max(1),
    };
    let modules = randomisation.modules(&ctx)?;
    let step_count = steps(&modules, randomisation.every, randomisation.order).len();
    let bar = session.progress(step_count, "randomised steps");
    let targets = args.target.map(|class| vec![class; refs.len()]);
    let results = randomisation.run(&ctx, &modules, saliency.as_ref(), &refs, targets.as_deref(), &mut |_| {
        bar.inc(1);
        session.check_stop()
    })?;
    bar.finish_and_clear();
    let trained = results
        .first()
        .ok_or_else(|| NasError::InvalidInput("model randomisation: no steps".into()))?;
    std::fs::create_dir_all(&args.out).map_err(|e| NasError::io(&args.out, e))?;
    let mut rows: Vec<[String; 8]> = Vec::new();
    let mut means: Vec<(String, [f64; 4])> = Vec::new();
    let mut maps: Vec<Vec<String>> = vec![Vec::new(); photos.len()];
    println!(
        "{:>4}  {:>10}  {:<28} {:>9} {:>12} {:>7} {:>12}",
        "step", "randomised", "module", "spearman", "spearman_abs", "ssim", "entropy_rise"
    );
    for (index, result) in results.iter().enumerate() {
        let module = result.step.module.clone().unwrap_or_default();
        let mut similarities: Vec<Similarity> = Vec::new();
        for (((photo, original), map), files) in photos.iter().zip(&trained.maps).zip(&result.maps).zip(&mut maps) {
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
                s.entropy_rise.to_string(),
            ]);
            similarities.push(s);
            let file = format!("{stem}.step{index:03}.{}", args.method);
            npy::write_array(&args.out.join(format!("{file}.npy")), map)?;
            output::write_png(&args.out.join(format!("{file}.png")), &render::heatmap(photo, map))?;
            files.push(format!("{file}.png"));
        }
        let mean = |f: fn(&Similarity) -> f64| similarities.iter().map(f).sum::<f64>() / similarities.len().max(1) as f64;
        means.push((
            format!(
                "{} ({})",
                result.step.randomised,
                if module.is_empty() { "trained" } else { &module }
            ),
            [
                mean(|s| s.spearman),
                mean(|s| s.spearman_abs),
                mean(|s| s.ssim),
                mean(|s| s.entropy_rise),
            ],
        ));
        let m = &means[means.len() - 1].1;
        println!(
            "{index:>4}  {:>10}  {:<28} {:>9.4} {:>12.4} {:>7.4} {:>12.4}",
            result.step.randomised, module, m[0], m[1], m[2], m[3]
        );
    }
    let path = output::write_csv(
        &args.out.join("randomisation.csv"),
        "image,step,randomised,module,spearman,spearman_abs,ssim,entropy_rise",
        rows.into_iter(),
    )?;
    let order = args.order.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
    let title = format!(
        "Model randomisation of {} ({order}, seed {}): {}",
        args.model.backbone, args.seed, args.method
    );
    let names: Vec<String> = photos.iter().map(|p| p.path.display().to_string()).collect();
    let html = report_html(&title, &means, &names, &maps);
    let page = args.out.join("randomisation.html");
    output::write_bytes(&page, html.as_bytes())?;
    println!("results in {} ({}, {})", args.out.display(), path.display(), page.display());
    Ok(())
}

/// The page of a run: the mean similarities per step as a plot and a table, then each photo's
/// maps step by step.
fn report_html(title: &str, means: &[(String, [f64; 4])], photos: &[String], maps: &[Vec<String>]) -> String {
    let series: Vec<(String, Vec<(f64, f64)>)> = ["Spearman", "Spearman of |map|", "SSIM"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let points = means.iter().enumerate().map(|(i, (_, m))| (i as f64, m[k])).collect();
            (format!("{name} with the trained network's map (x: step)"), points)
        })
        .collect();
    let mut html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title>\n<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}figure{{display:inline-block;margin:2px;font-size:10px;text-align:center}}</style></head><body>\n<h1>{0}</h1>\n<p>Mean over {1} photo(s) of each step's similarity with the trained network's map (Adebayo et al. 2018). A method that explains the network loses that similarity as the network is randomised, and its maps' entropy rises (EfficientMPRT, Hedström et al. 2024: the relative rise of the discrete entropy, 100 bins).</p>\n",
        escape(title),
        photos.len()
    );
    html.push_str(&line_plot(&series));
    html.push_str("<table><tr><th>step</th><th>randomised (module)</th><th>Spearman</th><th>Spearman |map|</th><th>SSIM</th><th>entropy rise</th></tr>\n");
    for (i, (label, m)) in means.iter().enumerate() {
        html.push_str(&format!(
            "<tr><td>{i}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>\n",
            escape(label),
            m[0],
            m[1],
            m[2],
            m[3]
        ));
    }
    html.push_str("</table>\n");
    for (photo, files) in photos.iter().zip(maps) {
        html.push_str(&format!("<h2>{}</h2>\n", escape(photo)));
        for (i, file) in files.iter().enumerate() {
            html.push_str(&format!(
                "<figure><a href=\"{0}\"><img src=\"{0}\" width=\"112\" alt=\"step {i}\"></a><figcaption>step {i}</figcaption></figure>\n",
                url_path(file)
            ));
        }
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::report_html;

    /// Photo names and module labels are escaped, file names percent-encoded, and NaN
    /// similarities (a constant map) leave the page whole.
    #[test]
    fn the_page_escapes_names_and_survives_nan() {
        let means = [
            ("0 (trained)".to_string(), [1.0, 1.0, 1.0, 0.0]),
            ("1 (fc<script>)".to_string(), [f64::NAN, 0.5, 0.25, 0.1]),
        ];
        let page = report_html(
            "a & b",
            &means,
            &["photos/a<b>.png".to_string()],
            &[vec!["a<b>.step000.gradient.png".to_string()]],
        );
        assert!(page.contains("a &amp; b") && page.contains("fc&lt;script&gt;") && page.contains("photos/a&lt;b&gt;.png"));
        assert!(page.contains("a%3Cb%3E.step000.gradient.png"), "{page}");
        assert!(!page.contains("<script>") && !page.contains("NaN,"), "{page}");
        assert!(page.trim_end().ends_with("</html>"));
    }
}
