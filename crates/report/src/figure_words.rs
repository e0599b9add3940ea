//! The CI history's figure names (`eff:async-1/cpu@c16`, `cal:cpu_loop_per_cpu_s`, as `rustcorn bench compare`
//! writes them) read back into words for the trend section, and which of them belong to this run: the trend is
//! shown only when the history was measured on the run's own targets, phases and loads.

use crate::history::History;
use crate::page::Report;

/// A history figure name taken apart: `KIND:TARGET[_vs_REFERENCE]/PHASE@LOAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed<'n> {
    kind: &'n str,
    target: &'n str,
    reference: Option<&'n str>,
    phase: &'n str,
    /// "c16", "u10", "r200", with "+2ms" when the phase's work is calibrated.
    load: &'n str,
}

fn parse(name: &str) -> Option<Parsed<'_>> {
    let (kind, rest) = name.split_once(':')?;
    let (subject, rest) = rest.split_once('/')?;
    let (phase, load) = rest.rsplit_once('@')?;
    let (target, reference) = match subject.split_once("_vs_") {
        Some((target, reference)) => (target, Some(reference)),
        None => (subject, None),
    };
    Some(Parsed { kind, target, reference, phase, load })
}

/// "16 connections", "10 users", "200 req/s", with ", 2ms of CPU work per request" for calibrated work.
fn load_words(load: &str) -> String {
    let (model, work) = match load.split_once('+') {
        Some((model, work)) => (model, format!(", {work} of CPU work per request")),
        None => (load, String::new()),
    };
    let model = match model.split_at_checked(1) {
        Some(("c", n)) => format!("{n} connections"),
        Some(("u", n)) => format!("{n} users"),
        Some(("r", n)) => format!("{n} req/s offered"),
        _ => model.to_owned(),
    };
    format!("{model}{work}")
}

/// A history figure in words, e.g. "async-1 on cpu at 16 connections: requests per CPU-second, normalised by the
/// calibration"; a name it does not know is returned as it is.
pub fn words(name: &str) -> String {
    match name {
        "cal:cpu_loop_per_cpu_s" => {
            return "Calibration: CPU-loop iterations per CPU-second of this machine".to_owned()
        }
        "cal:round_trips_per_cpu_s" => return "Calibration: loopback round trips per CPU-second".to_owned(),
        _ => {}
    }
    let Some(figure) = parse(name) else { return name.to_owned() };
    let what = match figure.kind {
        "eff" => "requests per CPU-second, normalised by the calibration".to_owned(),
        "work" => "share of its CPU time spent in the calibrated work".to_owned(),
        "upstream" => "req/s, paced by the upstream's delay".to_owned(),
        "raw" => "the headline as measured (req/s, or median ms)".to_owned(),
        "fail" => "share of requests that failed".to_owned(),
        "ratio" => format!("relative to {}, same phase and run", figure.reference.unwrap_or("the first target")),
        other => other.to_owned(),
    };
    format!("{} on {} at {}: {what}", figure.target, figure.phase, load_words(figure.load))
}

/// The history's figures measured on one of this run's targets in one of its phases at the same load (the
/// calibration figures too, when any is), in the history's order; empty when the history is another suite's.
pub fn shared(report: &Report<'_>, history: &History) -> Vec<String> {
    let matches_run = |figure: &Parsed<'_>| {
        let target = report.targets.iter().any(|target| target.name() == figure.target);
        let phase = report.phases.iter().any(|phase| {
            phase.name == figure.phase
                && phase.connections().is_some_and(|connections| {
                    figure.load.split('+').next() == Some(format!("c{connections}").as_str())
                })
        });
        target && phase
    };
    let names = history.figure_names();
    let run_figures: Vec<String> =
        names.iter().filter(|name| parse(name).is_some_and(|figure| matches_run(&figure))).cloned().collect();
    if run_figures.is_empty() {
        return run_figures;
    }
    let calibration = names.iter().filter(|name| name.starts_with("cal:")).cloned();
    calibration.chain(run_figures).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_names_read_as_words() {
        assert_eq!(
            words("eff:async-1/cpu@c16"),
            "async-1 on cpu at 16 connections: requests per CPU-second, normalised by the calibration"
        );
        assert_eq!(
            words("ratio:prefork-async-2_vs_sync/cpu@c16+2ms"),
            "prefork-async-2 on cpu at 16 connections, 2ms of CPU work per request: relative to sync, same phase \
             and run"
        );
        assert!(words("cal:cpu_loop_per_cpu_s").starts_with("Calibration: CPU-loop"));
        assert_eq!(words("something odd"), "something odd");
    }
}
