//! Progress on stderr: an indicatif bar over the whole suite whose message shows the running target, phase and
//! live req/s, and one line per finished phase (plain lines when stderr is not a terminal; nothing when quiet).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
    phase: Mutex<PhaseState>,
}

#[derive(Default)]
struct PhaseState {
    label: String,
    started: Option<Instant>,
    warmup: Duration,
    last: Option<(Instant, u64)>,
}

impl Progress {
    /// A bar over `total` target x phase runs; `quiet` shows nothing.
    pub fn new(total: u64, quiet: bool) -> Progress {
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        let style = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        Progress { bar, quiet, phase: Mutex::new(PhaseState::default()) }
    }

    pub fn start_phase(&self, target: &str, phase: &str, repetition: u32, warmup: Duration) {
        let label = format!("{target} / {phase} #{repetition}");
        self.bar.set_message(format!("{label}: starting"));
        if let Ok(mut state) = self.phase.lock() {
            *state = PhaseState { label, started: Some(Instant::now()), warmup, last: None };
        }
    }

    /// Called a few times a second with the measured requests so far; shows req/s over the last second.
    pub fn live(&self, requests: u64) {
        let Ok(mut state) = self.phase.lock() else { return };
        let now = Instant::now();
        if state.started.is_some_and(|started| now.duration_since(started) < state.warmup) {
            self.bar.set_message(format!("{}: warming up", state.label));
            return;
        }
        match state.last {
            Some((at, count)) if now.duration_since(at) >= Duration::from_secs(1) => {
                let rate = requests.saturating_sub(count) as f64 / now.duration_since(at).as_secs_f64();
                self.bar.set_message(format!("{}: {rate:.0} req/s", state.label));
                state.last = Some((now, requests));
            }
            Some(_) => {}
            None => state.last = Some((now, requests)),
        }
    }

    /// One finished run: advances the bar and prints its line.
    pub fn finish_phase(&self, line: &str) {
        self.bar.inc(1);
        self.line(line);
    }

    /// Runs that will not happen (their target failed).
    pub fn skip(&self, runs: u64) {
        self.bar.inc(runs);
    }

    /// A line above the bar (or a plain stderr line when the bar is not drawn).
    pub fn line(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
