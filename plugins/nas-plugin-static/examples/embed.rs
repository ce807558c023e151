//! How a program embeds nas with a third-party static plugin: depend on the plugin crate, call its
//! `link()` so the linker keeps it, and its components are in `Registry::builtin()`, created by
//! name like any built-in.
//!
//! `cargo run -p nas-plugin-static --example embed -- steps=20 score=logit`

use nas_core::{Context, Kind, Params, Registry};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

fn run() -> nas_core::Result<()> {
    nas_plugin_static::link();
    let registry = Registry::builtin();
    println!("metrics in this binary: {}", registry.names(Kind::Metric).join(", "));

    let entry = registry.entry(Kind::Metric, "deletion-auc")?;
    println!("deletion-auc: {}", entry.summary);
    for spec in entry.params {
        println!("  {} = {}  ({})", spec.name, spec.default, spec.doc);
    }

    // Parameters as `key=value` arguments, as `nas --param` takes them; typos and bad values are
    // reported by the registry, which calls `Params::finish` after the factory.
    let mut params = Params::empty("deletion-auc");
    for arg in std::env::args().skip(1) {
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| nas_core::NasError::InvalidInput(format!("`{arg}`: expected key=value")))?;
        params.set_from_str(key, value);
    }
    let context = Context {
        registry: &registry,
        device: nas_core::device::default_device(),
        cache_dir: std::env::temp_dir(),
    };
    let _metric = registry.metric("deletion-auc", &params, &context)?;
    let given: Vec<String> = params.table().iter().map(|(k, v)| format!("{k} = {v}")).collect();
    println!(
        "created deletion-auc with {}",
        if given.is_empty() {
            "the defaults".to_string()
        } else {
            given.join(", ")
        }
    );
    Ok(())
}
