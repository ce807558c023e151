//! What every command needs: the registry with plugins loaded, the device, the cache folder, a
//! Ctrl-C flag and progress bars.

use crate::cli::Cli;
use indicatif::{ProgressBar, ProgressStyle};
use nas_core::{Context, NasError, Registry, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Shared state of one `nas` invocation.
pub struct Session {
    /// Built-in and plugin components.
    pub registry: Registry,
    /// Device name as given.
    pub device: nas_core::Device,
    /// Cache folder.
    pub cache_dir: PathBuf,
    /// Set by Ctrl-C; long loops stop at the next image.
    pub stop: Arc<AtomicBool>,
}

impl Session {
    /// Loads plugins, parses the device and installs the Ctrl-C handler.
    pub fn new(cli: &Cli) -> Result<Session> {
        nas_plugins::link();
        let mut registry = Registry::builtin();
        for plugin in &cli.plugins {
            let names = registry.load_plugin(plugin)?;
            eprintln!("loaded plugin {}: {}", plugin.display(), names.join(", "));
        }
        let device = nas_core::device::parse_device(&cli.device)?;
        let cache_dir = match &cli.cache {
            Some(dir) => dir.clone(),
            None => nas_assets::Cache::from_env()
                .map(|c| c.root().to_path_buf())
                .map_err(|e| NasError::InvalidInput(format!("no cache folder: {e}; pass --cache DIR")))?,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        // A second Ctrl-C after the first one is not caught again: the default handler ends the process.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: finishing the current image (Ctrl-C again to abort)");
        });
        Ok(Session {
            registry,
            device,
            cache_dir,
            stop,
        })
    }

    /// The context components are created with.
    pub fn context(&self) -> Context<'_> {
        Context {
            registry: &self.registry,
            device: self.device.clone(),
            cache_dir: self.cache_dir.clone(),
        }
    }

    /// A progress bar over `len` images, hidden for a single image or when stderr is not a terminal.
    pub fn progress(&self, len: usize, what: &str) -> ProgressBar {
        if len < 2 {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len as u64);
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        bar
    }

    /// Errors out if Ctrl-C was pressed.
    pub fn check_stop(&self) -> Result<()> {
        if self.stop.load(Ordering::Relaxed) {
            Err(NasError::Interrupted)
        } else {
            Ok(())
        }
    }
}
