//! `report.html`: one page showing a run's images, maps and scores side by side. It links the
//! PNG files the run wrote beside it (no copies, no scripts), so it opens from the output folder
//! in any browser and travels with it.

use crate::comparison::ComparisonRow;
use crate::error::Result;
use crate::output;
use crate::pipeline::{ImageReport, ScoreRow, TableRow};
use std::path::{Path, PathBuf};

/// Text made safe inside HTML elements and attribute values.
pub fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A relative path as a URL path: bytes other than letters, digits, `-._~/` percent-encoded, so
/// that names with `#`, `?`, spaces or `<` still link.
pub fn url_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A written file's path relative to the output folder `out` (its name when it lies there).
fn relative(file: &str, out: &Path) -> String {
    let path = Path::new(file);
    path.strip_prefix(out).map(|p| p.display().to_string()).unwrap_or_else(|_| {
        path.file_name()
            .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned())
    })
}

/// What a PNG shows, from its name `stem.what.png` (the photo overlay is `stem.png`).
fn caption(file: &str, image: &str) -> String {
    let name = Path::new(file)
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let stem = Path::new(image)
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = name.strip_suffix(".png").unwrap_or(&name);
    let what = name.strip_prefix(stem.as_str()).unwrap_or(name).trim_start_matches('.');
    if what.is_empty() {
        "superpixels".into()
    } else {
        what.replace(".superpixel", " (superpixels)")
    }
}

/// Photos shown on the page: a dataset run of thousands would make a page no browser opens
/// comfortably; the results table covers them all.
const PHOTOS_SHOWN: usize = 200;

/// Colours of the curves of one plot, in turn.
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// Plot size in pixels: width, height of the axes area, margin.
const PLOT: (f64, f64, f64) = (360.0, 220.0, 30.0);

/// One inline SVG plot per metric whose scores carry a plottable curve (deletion curves,
/// MaxBoxAcc's IoU against threshold), one polyline per map, with a legend.
fn curve_plots(scores: &[ScoreRow]) -> String {
    let mut metrics: Vec<&str> = Vec::new();
    for s in scores.iter().filter(|s| s.plot && s.curve.len() > 1) {
        if !metrics.contains(&s.metric.as_str()) {
            metrics.push(&s.metric);
        }
    }
    metrics
        .iter()
        .map(|m| {
            curve_plot(
                &scores
                    .iter()
                    .filter(|s| s.plot && s.metric == *m && s.curve.len() > 1)
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// An inline SVG plot of one metric's curves, one polyline each, with a legend; empty when
/// there are none.
fn curve_plot(curves: &[&ScoreRow]) -> String {
    let series: Vec<(String, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|s| (format!("{} {} ({:.4})", s.map, s.metric, s.value), s.curve.clone()))
        .collect();
    line_plot(&series)
}

/// An inline SVG line plot, one polyline per `(legend, points)` series, the axes spanning at
/// least `[0, 1]`; empty when there are no series.
pub fn line_plot(series: &[(String, Vec<(f64, f64)>)]) -> String {
    if series.is_empty() {
        return String::new();
    }
    let (width, height, margin) = PLOT;
    let (x_low, x_high, y_low, y_high) = series
        .iter()
        .flat_map(|(_, points)| points.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .fold((0f64, 1f64, 0f64, 1f64), |(a, b, c, d), (x, y)| {
            (a.min(*x), b.max(*x), c.min(*y), d.max(*y))
        });
    let px = |x: f64| margin + (x - x_low) / (x_high - x_low).max(f64::EPSILON) * (width - 2.0 * margin);
    let py = |y: f64| height - margin - (y - y_low) / (y_high - y_low).max(f64::EPSILON) * (height - 2.0 * margin);
    let (inner_w, inner_h, bottom, right) = (width - 2.0 * margin, height - 2.0 * margin, height - margin, width - margin);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\">\n",
        height + 16.0 * series.len() as f64
    );
    svg.push_str(&format!(
        "<rect x=\"{margin}\" y=\"{margin}\" width=\"{inner_w}\" height=\"{inner_h}\" fill=\"none\" stroke=\"#999\"/>\n"
    ));
    let label = |x: f64, y: f64, anchor: &str, text: String| {
        format!("<text x=\"{x}\" y=\"{y}\" font-size=\"10\" text-anchor=\"{anchor}\">{text}</text>\n")
    };
    svg.push_str(&label(margin, bottom + 12.0, "start", format!("{x_low:.2}")));
    svg.push_str(&label(right, bottom + 12.0, "end", format!("{x_high:.2}")));
    svg.push_str(&label(margin - 2.0, bottom, "end", format!("{y_low:.2}")));
    svg.push_str(&label(margin - 2.0, margin + 8.0, "end", format!("{y_high:.2}")));
    for (i, (legend, points)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>\n",
            points.join(" ")
        ));
        svg.push_str(&format!(
            "<text x=\"{margin}\" y=\"{}\" font-size=\"11\" fill=\"{colour}\">{}</text>\n",
            height + 12.0 + 16.0 * i as f64,
            escape(legend)
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

/// Writes `report.html` in `out` for `reports`, with the results `table` and the paired
/// `comparisons` between maps; returns its path.
pub fn write_html(out: &Path, reports: &[ImageReport], table: &[TableRow], comparisons: &[ComparisonRow]) -> Result<PathBuf> {
    let mut html = String::from(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>nas report</title>\n",
        "<style>body{font-family:sans-serif;margin:1.5em}figure{display:inline-block;margin:0 1em 1em 0}",
        "figcaption{font-size:0.85em;text-align:center}table{border-collapse:collapse;margin-bottom:2em}",
        "td,th{border:1px solid #ccc;padding:0.2em 0.6em;text-align:left}img{width:224px}</style>\n",
        "</head>\n<body>\n<h1>nas report</h1>\n"
    ));
    if !table.is_empty() {
        html.push_str(&format!(
            "<h2>Results over {} photo(s)</h2>\n<table>\n<tr><th>map</th><th>metric</th><th>statistic</th><th>value</th></tr>\n",
            reports.iter().filter(|r| !r.skipped).count()
        ));
        for row in table {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td></tr>\n",
                escape(&row.map),
                escape(&row.metric),
                escape(&row.statistic),
                row.value
            ));
        }
        html.push_str("</table>\n");
    }
    if !comparisons.is_empty() {
        html.push_str(concat!(
            "<h2>Paired comparisons</h2>\n<p>Two-sided p-values of SciPy's Wilcoxon signed-rank and paired t-tests ",
            "over the photos both maps score, not corrected for the number of comparisons.</p>\n<table>\n",
            "<tr><th>metric</th><th>map a</th><th>map b</th><th>pairs</th><th>mean a</th><th>mean b</th>",
            "<th>Wilcoxon p</th><th>t-test p</th></tr>\n"
        ));
        for c in comparisons {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.3e}</td><td>{:.3e}</td></tr>\n",
                escape(&c.metric),
                escape(&c.map_a),
                escape(&c.map_b),
                c.pairs,
                c.mean_a,
                c.mean_b,
                c.wilcoxon_p,
                c.t_p
            ));
        }
        html.push_str("</table>\n");
    }
    for report in reports.iter().take(PHOTOS_SHOWN) {
        html.push_str(&format!("<h2>{}</h2>\n<p>", escape(&report.image)));
        let mut facts = Vec::new();
        if let Some(p) = report.predicted {
            facts.push(match &report.predicted_name {
                Some(name) => format!("predicted {p} ({})", escape(name)),
                None => format!("predicted {p}"),
            });
        }
        if report.skipped {
            facts.push("skipped (`only`)".to_string());
        }
        if let Some(l) = report.label {
            facts.push(format!("label {l}"));
        }
        if let Some(t) = report.target {
            facts.push(format!("target {t}"));
        }
        if let Some(n) = report.superpixels {
            facts.push(format!("{n} superpixels"));
        }
        for (label, n) in &report.superpixels_by_segmenter {
            facts.push(format!("{n} superpixels ({})", escape(label)));
        }
        html.push_str(&facts.join(", "));
        html.push_str("</p>\n");
        for file in report.files.iter().filter(|f| f.ends_with(".png")) {
            let link = url_path(&relative(file, out));
            html.push_str(&format!(
                "<figure><a href=\"{link}\"><img src=\"{link}\" alt=\"{alt}\"></a><figcaption>{alt}</figcaption></figure>\n",
                alt = escape(&caption(file, &report.image))
            ));
        }
        if !report.scores.is_empty() {
            html.push_str("<table>\n<tr><th>map</th><th>metric</th><th>score</th></tr>\n");
            for s in &report.scores {
                html.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{:.4}</td></tr>\n",
                    escape(&s.map),
                    escape(&s.metric),
                    s.value
                ));
            }
            html.push_str("</table>\n");
        }
        html.push_str(&curve_plots(&report.scores));
    }
    if reports.len() > PHOTOS_SHOWN {
        html.push_str(&format!(
            "<p>{} more photo(s) not shown here: their files are beside this page and their scores in summary.json and scores.csv.</p>\n",
            reports.len() - PHOTOS_SHOWN
        ));
    }
    html.push_str("</body>\n</html>\n");
    let path = out.join("report.html");
    output::write_bytes(&path, html.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_links_the_pngs_and_escapes_names() -> Result<()> {
        let out = std::env::temp_dir().join(format!("nas-report-{}", std::process::id()));
        std::fs::create_dir_all(&out).map_err(|e| crate::NasError::io(&out, e))?;
        let file = |name: &str| out.join(name).display().to_string();
        let report = ImageReport {
            image: "photos/a<b>.png".into(),
            label: None,
            predicted: Some(285),
            predicted_name: Some("Egyptian cat".into()),
            target: Some(285),
            superpixels: Some(16),
            superpixels_by_segmenter: Vec::new(),
            skipped: false,
            files: vec![
                file("a<b>.labels.npy"),
                file("a<b>.png"),
                file("a<b>.gradient.png"),
                file("a<b>.gradient.superpixel.png"),
            ],
            scores: vec![
                ScoreRow {
                    image: "photos/a<b>.png".into(),
                    map: "gradient+superpixel".into(),
                    metric: "auc-lerf".into(),
                    target: 285,
                    value: 0.85931,
                    curve: vec![(0.0, 1.0), (0.5, 0.9), (1.0, 0.0)],
                    plot: true,
                },
                ScoreRow {
                    image: "photos/a<b>.png".into(),
                    map: "gradient+superpixel".into(),
                    metric: "cluster-saliency".into(),
                    target: 285,
                    value: 2.0,
                    curve: vec![(0.0, 0.1), (2.0, 0.9), (1.0, 0.3)],
                    plot: false,
                },
            ],
        };
        let only = report.clone();
        let comparison = crate::comparison::ComparisonRow {
            metric: "auc-lerf".into(),
            map_a: "gradient".into(),
            map_b: "gradient+superpixel".into(),
            pairs: 12,
            mean_a: 0.5,
            mean_b: 0.75,
            wilcoxon_statistic: 3.0,
            wilcoxon_p: 0.0012,
            t_statistic: -4.2,
            t_p: 0.0015,
        };
        let path = write_html(&out, &[report], &[], &[comparison])?;
        let html = std::fs::read_to_string(&path).map_err(|e| crate::NasError::io(&path, e))?;
        std::fs::remove_dir_all(&out).map_err(|e| crate::NasError::io(&out, e))?;
        assert!(html.contains("<h2>photos/a&lt;b&gt;.png</h2>"), "{html}");
        assert!(html.contains("predicted 285 (Egyptian cat)"), "{html}");
        assert!(html.contains("src=\"a%3Cb%3E.gradient.superpixel.png\""), "{html}");
        assert!(html.contains("<figcaption>gradient (superpixels)</figcaption>"), "{html}");
        assert!(html.contains("<figcaption>superpixels</figcaption>"), "{html}");
        assert!(!html.contains("labels.npy"), "only images are shown");
        assert!(!html.contains(&out.display().to_string()), "links are relative");
        assert!(
            html.contains("<td>gradient+superpixel</td><td>auc-lerf</td><td>0.8593</td>"),
            "{html}"
        );
        assert!(
            html.contains("<td>auc-lerf</td><td>gradient</td><td>gradient+superpixel</td><td>12</td><td>0.5000</td><td>0.7500</td><td>1.200e-3</td><td>1.500e-3</td>"),
            "{html}"
        );
        // The curve, from the plot's top left corner to its bottom right one.
        assert!(html.contains("points=\"30.0,30.0 180.0,46.0 330.0,190.0\""), "{html}");
        assert_eq!(html.matches("<svg").count(), 1, "data that is not a curve is not plotted");
        let many: Vec<ImageReport> = (0..PHOTOS_SHOWN + 3).map(|_| only.clone()).collect();
        let path = write_html(&out, &many, &[], &[])?;
        let html = std::fs::read_to_string(&path).map_err(|e| crate::NasError::io(&path, e))?;
        std::fs::remove_dir_all(&out).map_err(|e| crate::NasError::io(&out, e))?;
        assert_eq!(html.matches("<h2>").count(), PHOTOS_SHOWN, "no results, no comparisons, photos");
        assert!(html.contains("3 more photo(s) not shown here"), "the page says what it leaves out");
        Ok(())
    }
}
