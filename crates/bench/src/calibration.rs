//! The calibration workload measured once per run (a fixed CPU loop and a loopback TCP round trip against an
//! in-process echo), stored in results.json so that `compare` can express figures from different machines in the
//! same units. Both are timed in thread CPU time as well as wall time: CPU time tells how fast the machine does a
//! fixed piece of work whatever else competes for the cores, which is what normalises a target's CPU per request.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use nix::time::{clock_gettime, ClockId};

use crate::compare::stats::median;
pub use results::calibration::{
    Calibration, CalibrationRound, REFERENCE_CPU_LOOP_PER_CPU_S, REFERENCE_ROUND_TRIPS_PER_CPU_S, WORKLOAD_VERSION,
};

/// Dependent xorshift steps per CPU round: tens of milliseconds on a current core.
const CPU_LOOP_ITERATIONS: u64 = 20_000_000;
/// Round trips per loopback round.
const ROUND_TRIPS_PER_ROUND: u32 = 2_000;
/// Bytes sent and echoed per round trip: about a small HTTP request.
const ROUND_TRIP_BYTES: usize = 128;
/// A round trip that takes longer than this means the echo is gone: fail instead of hanging.
const ECHO_TIMEOUT: Duration = Duration::from_secs(10);

/// How to measure: how many rounds and where. The driver passes its pinning plan so that the calibration runs on
/// the cores the targets and the load generator use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalibrationPlan {
    /// Rounds of each workload; the median is kept.
    pub rounds: u32,
    /// CPUs for the CPU loop and the echo server; None leaves them to the scheduler.
    pub target_cores: Option<Vec<usize>>,
    /// CPUs for the round-trip client; None leaves it to the scheduler.
    pub load_cores: Option<Vec<usize>>,
}

impl Default for CalibrationPlan {
    fn default() -> CalibrationPlan {
        CalibrationPlan { rounds: 7, target_cores: None, load_cores: None }
    }
}

/// Why calibration could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("calibration needs at least one round")]
    NoRounds,
    #[error("calibration echo over loopback failed: {0}")]
    Echo(#[source] std::io::Error),
    #[error("cannot pin a calibration thread to CPUs {cores:?}: {source}")]
    Pin { cores: Vec<usize>, source: nix::Error },
    #[error("cannot read the calibration thread's CPU time: {0}")]
    CpuClock(#[source] nix::Error),
    #[error("a calibration thread panicked")]
    ThreadPanicked,
}

/// Measures the CPU loop, then the loopback round trip, each `plan.rounds` times. Takes about a second.
pub fn measure(plan: &CalibrationPlan) -> Result<Calibration, CalibrationError> {
    if plan.rounds == 0 {
        return Err(CalibrationError::NoRounds);
    }
    let cpu_rounds = measure_cpu_rounds(plan.rounds, plan.target_cores.clone())?;
    let round_trip_rounds = measure_round_trip_rounds(plan)?;
    let medians = |rounds: &[CalibrationRound]| {
        let per_cpu: Vec<f64> = rounds.iter().map(|round| round.per_cpu_s).collect();
        let per_wall: Vec<f64> = rounds.iter().map(|round| round.per_s).collect();
        (median(&per_cpu), median(&per_wall))
    };
    let (cpu_loop_per_cpu_s, cpu_loop_per_s) = medians(&cpu_rounds);
    let (round_trips_per_cpu_s, round_trips_per_s) = medians(&round_trip_rounds);
    Ok(Calibration {
        workload_version: WORKLOAD_VERSION,
        cpu_loop_per_cpu_s,
        cpu_loop_per_s,
        round_trips_per_cpu_s,
        round_trips_per_s,
        cpu_rounds,
        round_trip_rounds,
        target_cores: plan.target_cores.as_deref().map(to_u32),
        load_cores: plan.load_cores.as_deref().map(to_u32),
    })
}

/// The driver's call: calibrates on the cores the targets get (every core the load generator does not use) and the
/// load generator's cores. A failure is logged and leaves the run without calibration rather than failing it.
pub fn measure_for_run(pinning: &crate::pinning::Pinning) -> Option<Calibration> {
    let load: Vec<usize> = pinning.load.iter().map(|&core| core as usize).collect();
    let mut target: Vec<usize> =
        pinning.online.iter().map(|&core| core as usize).filter(|core| !load.contains(core)).collect();
    if target.is_empty() {
        target = load.clone();
    }
    let plan = CalibrationPlan { target_cores: Some(target), load_cores: Some(load), ..CalibrationPlan::default() };
    match measure(&plan) {
        Ok(calibration) => Some(calibration),
        Err(error) => {
            tracing::warn!(%error, "calibration failed: this run's figures cannot be normalised");
            None
        }
    }
}

/// Wall-clock and thread CPU time of one stretch of work on the current thread.
struct Stopwatch {
    wall: Instant,
    cpu: Duration,
}

impl Stopwatch {
    fn start() -> Result<Stopwatch, CalibrationError> {
        Ok(Stopwatch { wall: Instant::now(), cpu: thread_cpu_time()? })
    }

    /// `units` of work per CPU-second and per wall second since `start`.
    fn round(&self, units: f64) -> Result<CalibrationRound, CalibrationError> {
        let cpu = thread_cpu_time()?.saturating_sub(self.cpu);
        Ok(CalibrationRound { per_cpu_s: per_second(units, cpu), per_s: per_second(units, self.wall.elapsed()) })
    }
}

fn thread_cpu_time() -> Result<Duration, CalibrationError> {
    let time = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_err(CalibrationError::CpuClock)?;
    Ok(Duration::from(time))
}

fn measure_cpu_rounds(rounds: u32, cores: Option<Vec<usize>>) -> Result<Vec<CalibrationRound>, CalibrationError> {
    run_pinned(cores, move || {
        (0..rounds)
            .map(|_| {
                let stopwatch = Stopwatch::start()?;
                black_box(cpu_loop(black_box(CPU_LOOP_ITERATIONS)));
                stopwatch.round(CPU_LOOP_ITERATIONS as f64)
            })
            .collect()
    })
}

/// The fixed CPU work: a chain of dependent xorshift steps, which no compiler can shorten or vectorise.
fn cpu_loop(iterations: u64) -> u64 {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for step in 0..iterations {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state = state.wrapping_add(step);
    }
    state
}

/// The echo (on the target cores) times its own CPU per round; the client (on the load cores) the wall clock.
fn measure_round_trip_rounds(plan: &CalibrationPlan) -> Result<Vec<CalibrationRound>, CalibrationError> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(CalibrationError::Echo)?;
    let addr = listener.local_addr().map_err(CalibrationError::Echo)?;
    let echo_cores = plan.target_cores.clone();
    let echo = thread::Builder::new()
        .name("calibration-echo".into())
        .spawn(move || run_pinned(echo_cores, move || echo_one_connection(&listener)))
        .map_err(CalibrationError::Echo)?;
    let rounds = plan.rounds;
    let client = run_pinned(plan.load_cores.clone(), move || time_round_trips(addr, rounds));
    let echo_cpu = echo.join().map_err(|_| CalibrationError::ThreadPanicked)?;
    let wall = client?;
    let echo_cpu = echo_cpu?;
    Ok(wall.iter().zip(&echo_cpu).map(|(&per_s, &per_cpu_s)| CalibrationRound { per_cpu_s, per_s }).collect())
}

/// Accepts one connection and echoes fixed-size messages until the client closes it; returns the round trips per
/// second of its own CPU time for each round of [`ROUND_TRIPS_PER_ROUND`].
fn echo_one_connection(listener: &TcpListener) -> Result<Vec<f64>, CalibrationError> {
    let (mut stream, _) = listener.accept().map_err(CalibrationError::Echo)?;
    configure(&stream).map_err(CalibrationError::Echo)?;
    let mut buffer = [0u8; ROUND_TRIP_BYTES];
    let mut rounds = Vec::new();
    loop {
        let stopwatch = Stopwatch::start()?;
        for _ in 0..ROUND_TRIPS_PER_ROUND {
            match stream.read_exact(&mut buffer) {
                Ok(()) => stream.write_all(&buffer).map_err(CalibrationError::Echo)?,
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(rounds),
                Err(error) => return Err(CalibrationError::Echo(error)),
            }
        }
        rounds.push(stopwatch.round(f64::from(ROUND_TRIPS_PER_ROUND))?.per_cpu_s);
    }
}

fn time_round_trips(addr: SocketAddr, rounds: u32) -> Result<Vec<f64>, CalibrationError> {
    let mut stream = TcpStream::connect_timeout(&addr, ECHO_TIMEOUT).map_err(CalibrationError::Echo)?;
    configure(&stream).map_err(CalibrationError::Echo)?;
    let message = [0x5Au8; ROUND_TRIP_BYTES];
    let mut reply = [0u8; ROUND_TRIP_BYTES];
    let mut figures = Vec::with_capacity(rounds as usize);
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..ROUND_TRIPS_PER_ROUND {
            stream.write_all(&message).map_err(CalibrationError::Echo)?;
            stream.read_exact(&mut reply).map_err(CalibrationError::Echo)?;
        }
        figures.push(per_second(f64::from(ROUND_TRIPS_PER_ROUND), started.elapsed()));
    }
    Ok(figures)
}

fn configure(stream: &TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(ECHO_TIMEOUT))?;
    stream.set_write_timeout(Some(ECHO_TIMEOUT))
}

/// Runs `work` on a new thread restricted to `cores`, so that the caller's own affinity is left alone.
fn run_pinned<T: Send + 'static>(
    cores: Option<Vec<usize>>,
    work: impl FnOnce() -> Result<T, CalibrationError> + Send + 'static,
) -> Result<T, CalibrationError> {
    let handle = thread::Builder::new()
        .name("calibration".into())
        .spawn(move || {
            if let Some(cores) = cores {
                pin_current_thread(&cores)?;
            }
            work()
        })
        .map_err(CalibrationError::Echo)?;
    handle.join().map_err(|_| CalibrationError::ThreadPanicked)?
}

fn pin_current_thread(cores: &[usize]) -> Result<(), CalibrationError> {
    let pin_error = |source| CalibrationError::Pin { cores: cores.to_vec(), source };
    let mut set = nix::sched::CpuSet::new();
    for &core in cores {
        set.set(core).map_err(pin_error)?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).map_err(pin_error)
}

fn per_second(count: f64, elapsed: Duration) -> f64 {
    count / elapsed.as_secs_f64().max(1e-9)
}

fn to_u32(cores: &[usize]) -> Vec<u32> {
    cores.iter().map(|&core| core as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_positive_figures_with_one_entry_per_round() {
        let calibration = measure(&CalibrationPlan { rounds: 3, ..CalibrationPlan::default() }).expect("measure");
        assert_eq!(calibration.workload_version, WORKLOAD_VERSION);
        assert_eq!(calibration.cpu_rounds.len(), 3);
        assert_eq!(calibration.round_trip_rounds.len(), 3);
        assert!(calibration.is_usable(), "{calibration:?}");
        let per_cpu: Vec<f64> = calibration.cpu_rounds.iter().map(|round| round.per_cpu_s).collect();
        assert_eq!(calibration.cpu_loop_per_cpu_s, median(&per_cpu));
        for round in calibration.cpu_rounds.iter().chain(&calibration.round_trip_rounds) {
            // A thread cannot get more CPU time than wall time: per CPU-second is at least per wall second.
            assert!(round.per_cpu_s >= round.per_s * 0.99, "{round:?}");
        }
    }

    #[test]
    fn pinned_calibration_records_its_cores() {
        let plan = CalibrationPlan { rounds: 1, target_cores: Some(vec![0]), load_cores: Some(vec![0]) };
        let calibration = measure(&plan).expect("measure pinned to core 0");
        assert_eq!(calibration.target_cores, Some(vec![0]));
        assert_eq!(calibration.load_cores, Some(vec![0]));
    }

    #[test]
    fn zero_rounds_is_refused() {
        let plan = CalibrationPlan { rounds: 0, ..CalibrationPlan::default() };
        assert!(matches!(measure(&plan), Err(CalibrationError::NoRounds)));
    }

    #[test]
    fn the_cpu_loop_depends_on_its_iteration_count() {
        assert_ne!(cpu_loop(10), cpu_loop(11));
        assert_eq!(cpu_loop(1000), cpu_loop(1000));
    }
}
