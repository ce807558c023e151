//! `nas list`: every registered component with its parameters and defaults.

use crate::cli::ListArgs;
use crate::session::Session;
use nas_core::registry::Origin;
use nas_core::{Kind, Result};

/// Runs the command.
pub fn run(session: &Session, args: &ListArgs) -> Result<()> {
    if args.json {
        for (entry, origin) in session.registry.entries() {
            let params: Vec<_> = entry
                .params
                .iter()
                .map(|p| serde_json::json!({"name": p.name, "type": format!("{:?}", p.kind), "default": p.default, "doc": p.doc}))
                .collect();
            let origin = match origin {
                Origin::BuiltIn => "built-in".to_string(),
                Origin::Plugin(p) => p.display().to_string(),
            };
            println!(
                "{}",
                serde_json::json!({"kind": entry.factory.kind().to_string(), "name": entry.name, "summary": entry.summary, "origin": origin, "params": params})
            );
        }
        return Ok(());
    }
    // Names in one column, as wide as the longest.
    let width = session.registry.entries().map(|(e, _)| e.name.len()).max().unwrap_or(0);
    for kind in Kind::ALL {
        println!("{kind}s:");
        for (entry, origin) in session.registry.entries().filter(|(e, _)| e.factory.kind() == kind) {
            let from = match origin {
                Origin::BuiltIn => String::new(),
                Origin::Plugin(p) => format!(" [plugin {}]", p.display()),
            };
            println!("  {:<width$} {}{from}", entry.name, entry.summary);
            for p in entry.params {
                let default = if p.default.is_empty() {
                    "required/none".to_string()
                } else {
                    p.default.to_string()
                };
                println!("      {:<16} = {:<24} {}", p.name, default, p.doc);
            }
        }
    }
    Ok(())
}
