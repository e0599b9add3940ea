//! The work behind `/cpu-intensive`, `/memory-intensive` and `/health`, timed like the article's handlers
//! (the clock read just before and just after the work, nothing else inside).

use std::hint::black_box;
use std::time::Instant;

use crate::{Response, CPU_INTENSIVE_MESSAGE, MEMORY_INTENSIVE_MESSAGE};
use server_kit::Shutdown;

/// The article's 1000 x 100 nested loop.
pub const DEFAULT_CPU_ITERATIONS: u64 = 100_000;
/// The article's list of 10 000 integers.
pub const DEFAULT_MEMORY_N: u64 = 10_000;

/// Outer rounds (of 100 iterations) between two looks at the abandon token: about a millisecond of work, so the
/// look costs nothing measurable and a stop waits at most that long.
const ROUNDS_BETWEEN_CHECKS: u64 = 10_000;

/// A nested loop of `iterations` multiply-adds (inner loop of 100, like the article's), kept by `black_box`. It
/// gives up with 503 once `abandon` is cancelled (a stopping server whose graceful timeout ran out), so that no
/// request's work, however long, keeps a server from stopping.
pub fn cpu_intensive(iterations: u64, abandon: &Shutdown) -> Response {
    let started = Instant::now();
    let outer = iterations / 100;
    let mut total: u64 = 0;
    for i in 0..outer {
        if i % ROUNDS_BETWEEN_CHECKS == 0 && i > 0 && abandon.is_cancelled() {
            return Response::error(503, "the server stopped before this request's work was done");
        }
        for j in 0..100u64 {
            total = total.wrapping_add(black_box(i).wrapping_mul(black_box(j)));
        }
    }
    for j in 0..iterations % 100 {
        total = total.wrapping_add(black_box(outer).wrapping_mul(black_box(j)));
    }
    black_box(total);
    Response::completed(CPU_INTENSIVE_MESSAGE, started.elapsed().as_secs_f64())
}

/// Builds a vector of `n` integers, touches every element, then drops it.
pub fn memory_intensive(n: u64) -> Response {
    let started = Instant::now();
    let mut values: Vec<u64> = (0..n).collect();
    for value in values.iter_mut() {
        *value = black_box(*value).wrapping_mul(2);
    }
    black_box(&values);
    drop(values);
    Response::completed(MEMORY_INTENSIVE_MESSAGE, started.elapsed().as_secs_f64())
}

pub fn health() -> Response {
    Response::completed("ok", 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_intensive_reports_a_duration() {
        let response = cpu_intensive(1_000, &Shutdown::new());
        let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(value["message"], "CPU-intensive task completed");
        assert!(value["duration"].as_f64().unwrap() >= 0.0);
    }

    #[test]
    fn cpu_intensive_gives_up_once_abandoned() {
        let abandon = Shutdown::new();
        abandon.cancel();
        // The largest amount a request may ask for; 503 is only ever answered by the look at the token.
        let response = cpu_intensive(crate::MAX_CPU_ITERATIONS, &abandon);
        assert_eq!(response.status, 503);
        assert_eq!(cpu_intensive(1_000, &abandon).status, 200, "short work finishes before the first look");
    }

    #[test]
    fn memory_intensive_handles_zero_and_some() {
        for n in [0, 1, 10_000] {
            let response = memory_intensive(n);
            assert_eq!(response.status, 200);
        }
    }
}
