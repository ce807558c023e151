//! The paired tests against SciPy 1.17 (scripts/make_significance_fixture.py): `wilcoxon` and
//! `ttest_rel` with their defaults on 70 seeded samples of 1 to 80 pairs, continuous, tied, with
//! zero differences, shifted and all equal: the same statistics within 1e-9 and p-values within 1e-9 (NaN
//! where SciPy gives NaN).

use nas_core::significance::{paired_t, wilcoxon, TestResult};
use serde_json::Value;
use std::error::Error;

fn close(ours: f64, theirs: f64) -> bool {
    (ours.is_nan() && theirs.is_nan()) || (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0)
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

#[test]
fn paired_tests_match_scipy() -> Result<(), Box<dyn Error>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/significance.json");
    let text = std::fs::read_to_string(path)?.replace("NaN", "null");
    let fixture: Value = serde_json::from_str(&text)?;
    let cases = fixture["cases"].as_array().ok_or("no cases")?;
    assert_eq!(cases.len(), 70);
    let mut failures = Vec::new();
    let mut defined = 0;
    for case in cases {
        let (a, b) = (numbers(&case["a"]), numbers(&case["b"]));
        let label = format!("{} pairs, {}", a.len(), case["kind"]);
        for (name, ours, theirs) in [
            ("wilcoxon", wilcoxon(&a, &b), numbers(&case["wilcoxon"])),
            ("ttest_rel", paired_t(&a, &b), numbers(&case["ttest"])),
        ] {
            let TestResult { statistic, p_value } = ours;
            defined += usize::from(!theirs[1].is_nan());
            if !close(statistic, theirs[0]) || !close(p_value, theirs[1]) {
                failures.push(format!(
                    "{label}, {name}: ({statistic}, {p_value}) vs SciPy ({}, {})",
                    theirs[0], theirs[1]
                ));
            }
        }
    }
    assert!(defined >= 110, "only {defined} of 140 SciPy p-values are defined");
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    Ok(())
}
