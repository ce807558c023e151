//! What every command needs: the registry with plugins loaded, the device, the cache folder, a
//! Ctrl-C flag and progress bars.

use crate::cli::Cli;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use nas_core::{Context, NasError, Registry, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Where progress bars are drawn, together.
    bars: MultiProgress,
}

/// Draws the progress of tasks inside components (see `nas_core::progress`) as a second bar,
/// and tells them when Ctrl-C was pressed.
struct TaskBars {
    bars: MultiProgress,
    current: Mutex<Option<ProgressBar>>,
    stop: Arc<AtomicBool>,
}

impl nas_core::progress::Reporter for TaskBars {
    fn start(&self, what: &str, total: u64) {
        let bar = self.bars.add(ProgressBar::new(total));
        bar.set_style(bar_style());
        bar.set_message(what.to_string());
        if let Ok(mut current) = self.current.lock() {
            *current = Some(bar);
        }
    }

    fn advance(&self, units: u64) {
        if let Ok(current) = self.current.lock() {
            current.iter().for_each(|bar| bar.inc(units));
        }
    }

    fn finish(&self) {
        if let Ok(mut current) = self.current.lock() {
            if let Some(bar) = current.take() {
                bar.finish_and_clear();
                self.bars.remove(&bar);
            }
        }
    }

    fn cancelled(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// The look of every progress bar.
fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}")
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
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
            eprintln!("\ninterrupted: stopping after the current image or step (Ctrl-C again to abort)");
        });
        let bars = MultiProgress::new();
        nas_core::progress::install(Arc::new(TaskBars {
            bars: bars.clone(),
            current: Mutex::new(None),
            stop: stop.clone(),
        }));
        Ok(Session {
            registry,
            device,
            cache_dir,
            stop,
            bars,
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
        let bar = self.bars.add(ProgressBar::new(len as u64));
        bar.set_style(bar_style());
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
