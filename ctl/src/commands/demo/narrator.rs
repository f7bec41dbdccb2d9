//! How the demo talks: numbered steps and indented details on stdout.

use std::time::Instant;

/// Prints the story as it unfolds.
pub struct Narrator {
    started: Instant,
    step: usize,
}

impl Narrator {
    /// A narrator whose clock starts now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            step: 0,
        }
    }

    /// A new step of the story.
    pub fn step(&mut self, title: &str) {
        self.step += 1;
        println!();
        println!(
            "[{:>5.1}s] {}. {title}",
            self.started.elapsed().as_secs_f64(),
            self.step
        );
    }

    /// A detail of the current step.
    pub fn say(&self, text: &str) {
        println!("[{:>5.1}s]    {text}", self.started.elapsed().as_secs_f64());
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}
