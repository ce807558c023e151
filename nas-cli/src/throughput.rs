//! Wall-clock throughput of a command over its images, with the first batch reported apart: on a
//! GPU it pays device start-up and kernel compilation, which steady-state figures must not hide.

use std::time::{Duration, Instant};

/// Counts finished images against the clock.
pub struct Throughput {
    start: Instant,
    first_batch: usize,
    done: usize,
    first: Option<Duration>,
}

impl Throughput {
    /// Starts the clock; `first_batch` images make up the first batch.
    pub fn start(first_batch: usize) -> Throughput {
        Throughput {
            start: Instant::now(),
            first_batch: first_batch.max(1),
            done: 0,
            first: None,
        }
    }

    /// Records one finished image.
    pub fn image_done(&mut self) {
        self.done += 1;
        if self.done == self.first_batch {
            self.first = Some(self.start.elapsed());
        }
    }

    /// `first batch of N: X s (...); then Y images/s`, or `None` when a single batch ran.
    pub fn report(&self) -> Option<String> {
        let first = self.first?;
        let rest = self.done.checked_sub(self.first_batch).filter(|n| *n > 0)?;
        let steady = (self.start.elapsed() - first).as_secs_f64().max(1e-9);
        Some(format!(
            "timing: first batch of {} images {:.2} s (start-up and, on a GPU, kernel compilation); then {:.1} images/s",
            self.first_batch,
            first.as_secs_f64(),
            rest as f64 / steady
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_only_after_more_than_one_batch() {
        let mut t = Throughput::start(2);
        t.image_done();
        assert!(t.report().is_none());
        t.image_done();
        assert!(t.report().is_none(), "one batch gives no steady state");
        t.image_done();
        let Some(line) = t.report() else {
            panic!("two batches give a report");
        };
        assert!(line.contains("first batch of 2 images") && line.contains("images/s"), "{line}");
    }
}
