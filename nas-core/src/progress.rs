//! Progress of long work inside one component call (RISE's thousands of forward passes, for
//! one), reported to whoever drives the run: the CLI installs a [`Reporter`] that draws a bar and
//! knows whether the user pressed Ctrl-C. Without a reporter, tasks report nothing and are never
//! cancelled, so library users pay nothing.

use std::sync::{Arc, RwLock};

/// Receives the progress of tasks; installed once per process with [`install`].
pub trait Reporter: Send + Sync {
    /// A task of `total` units called `what` begins.
    fn start(&self, what: &str, total: u64);
    /// `units` more units of the current task are done.
    fn advance(&self, units: u64);
    /// The current task ended (finished, failed or cancelled).
    fn finish(&self);
    /// Whether the user asked to stop: tasks check it between units and end with
    /// [`NasError::Interrupted`](crate::NasError::Interrupted).
    fn cancelled(&self) -> bool;
}

static REPORTER: RwLock<Option<Arc<dyn Reporter>>> = RwLock::new(None);

/// Makes `reporter` receive the progress of every later task of this process.
pub fn install(reporter: Arc<dyn Reporter>) {
    if let Ok(mut slot) = REPORTER.write() {
        *slot = Some(reporter);
    }
}

/// A running task; reports its end when dropped.
pub struct Task {
    reporter: Option<Arc<dyn Reporter>>,
}

/// Starts a task of `total` units called `what`, reported to the installed reporter if any.
pub fn task(what: &str, total: u64) -> Task {
    let reporter = REPORTER.read().ok().and_then(|slot| slot.clone());
    if let Some(r) = &reporter {
        r.start(what, total);
    }
    Task { reporter }
}

impl Task {
    /// Records `units` more units done.
    pub fn advance(&self, units: u64) {
        if let Some(r) = &self.reporter {
            r.advance(units);
        }
    }

    /// `Err(Interrupted)` once the user asked to stop.
    pub fn check(&self) -> crate::Result<()> {
        match &self.reporter {
            Some(r) if r.cancelled() => Err(crate::NasError::Interrupted),
            _ => Ok(()),
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if let Some(r) = &self.reporter {
            r.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    #[derive(Default)]
    struct Counter {
        started: AtomicU64,
        done: AtomicU64,
        finished: AtomicBool,
        stop: AtomicBool,
    }

    impl Reporter for Counter {
        fn start(&self, _what: &str, total: u64) {
            self.started.store(total, Ordering::SeqCst);
        }
        fn advance(&self, units: u64) {
            self.done.fetch_add(units, Ordering::SeqCst);
        }
        fn finish(&self) {
            self.finished.store(true, Ordering::SeqCst);
        }
        fn cancelled(&self) -> bool {
            self.stop.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn tasks_report_to_the_installed_reporter_and_see_cancellation() {
        let counter = Arc::new(Counter::default());
        install(counter.clone());
        {
            let task = task("masks", 10);
            task.advance(4);
            task.advance(3);
            assert!(task.check().is_ok());
            counter.stop.store(true, Ordering::SeqCst);
            assert!(matches!(task.check(), Err(crate::NasError::Interrupted)));
        }
        assert_eq!(counter.started.load(Ordering::SeqCst), 10);
        assert_eq!(counter.done.load(Ordering::SeqCst), 7);
        assert!(counter.finished.load(Ordering::SeqCst));
    }
}
