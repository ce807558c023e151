//! Fetches catalog assets into the cache and prints their paths.
//!
//! `cargo run --example fetch -- efficientnet-lite0 imagenet_00_243`
//! (no arguments: every asset of the catalog; `--list`: names only).

use std::process::ExitCode;

use nas_assets::{catalog, fetch_all, Cache};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for asset in catalog::all() {
            println!("{}\t{}=={}\t{}", asset.name, asset.project, asset.version, asset.member);
        }
        return ExitCode::SUCCESS;
    }
    let mut assets = Vec::new();
    for name in &args {
        match catalog::by_name(name) {
            Some(asset) => assets.push(asset),
            None => {
                eprintln!("unknown asset `{name}` (try --list)");
                return ExitCode::FAILURE;
            }
        }
    }
    if assets.is_empty() {
        assets = catalog::all();
    }
    let result = Cache::from_env().and_then(|cache| fetch_all(assets.iter().copied(), &cache));
    match result {
        Ok(paths) => {
            for (asset, path) in assets.iter().zip(paths) {
                println!("{}\t{}", asset.name, path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
