//! The claims about memory: gunicorn's master and workers use more than one uvicorn process (claim 3), and more
//! with every worker (the second half of claim 2). Memory is the process tree's PSS (shared pages split between
//! the processes sharing them, so forked workers are not counted twice), with the RSS sum beside it.

use results::Family;

use super::roles::{self, Role};
use super::{not_measured, Check, Finding};
use crate::data::RunView;
use crate::format;

/// The paths whose phases memory is compared in, in order of preference: the CPU phase loads every target.
const PATHS: [&str; 4] = ["/cpu-intensive", "/memory-intensive", "/async-google", "/sync-google"];

/// "PSS 12.3 MiB (RSS 15.0 MiB)": a target's peak memory in a phase; None without a PSS figure.
fn memory_text(report: &RunView<'_>, target: usize, phase: usize) -> Option<(f64, String)> {
    let pss = report.pss_peak(target, phase)?.median;
    let rss = report.rss_peak(target, phase).map_or(0.0, |rss| rss.median);
    Some((pss, format!("PSS {} (RSS {})", format::bytes(pss), format::bytes(rss))))
}

/// A phase (shared selector, on the first path that has one) where both targets `find` returns have PSS figures.
fn phase_with_both(
    report: &RunView<'_>,
    find: impl Fn(usize) -> Option<(usize, usize)>,
) -> Option<(usize, (usize, usize))> {
    PATHS.iter().find_map(|path| {
        let has_pss = |phase: usize, target: usize| report.pss_peak(target, phase).is_some();
        let both = |phase: usize| find(phase).filter(|&(a, b)| has_pss(phase, a) && has_pss(phase, b));
        let phase = crate::select::best_phase(report, path, |phase| both(phase).is_some())?;
        Some((phase, both(phase)?))
    })
}

/// Claim 3: one uvicorn process uses less memory than gunicorn with its workers.
pub fn one_process_uses_less(report: &RunView<'_>, family: Family) -> Check {
    let pair = |phase: usize| {
        let has = |t: usize| report.has_data(t, phase);
        let prefork = roles::find(report, family, Role::PreforkAsync, |t| has(t) && roles::several_workers(report, t))
            .or_else(|| roles::find(report, family, Role::PreforkAsync, has))?;
        Some((roles::find(report, family, Role::SingleLoop, has)?, prefork))
    };
    let Some((phase, (single, prefork))) = phase_with_both(report, pair) else {
        return not_measured(family, "no phase measured the memory of a single event loop and of its prefork peer");
    };
    let (Some((single_pss, single_text)), Some((prefork_pss, prefork_text))) =
        (memory_text(report, single, phase), memory_text(report, prefork, phase))
    else {
        return not_measured(family, "no PSS figures");
    };
    let workers = report.targets[prefork].result.worker_count().unwrap_or(1);
    let evidence = format!(
        "on {}, {} used {single_text}; {} with {} {prefork_text}, {} as much",
        report.phases[phase].name,
        report.target_name(single),
        report.target_name(prefork),
        roles::workers_text(workers),
        format::ratio(prefork_pss / single_pss.max(1.0))
    );
    let finding = if single_pss < prefork_pss { Finding::Holds } else { Finding::DoesNotHold };
    Check::new(family, finding, evidence)
}

/// The second half of claim 2: the process tree's memory grows with gunicorn's worker count. The finding and the
/// figures; NotMeasured when no phase ran two worker counts.
pub fn grows_with_workers(report: &RunView<'_>, family: Family) -> (Finding, String) {
    let sweep = |phase: usize| -> Vec<(u32, usize)> {
        let mut members: Vec<(u32, usize)> = roles::originals(report, family, Role::PreforkAsync)
            .into_iter()
            .filter(|&target| report.pss_peak(target, phase).is_some())
            .filter_map(|target| Some((report.targets[target].result.worker_count()?, target)))
            .collect();
        members.sort_unstable();
        members.dedup_by_key(|(workers, _)| *workers);
        members
    };
    let found = PATHS.iter().find_map(|path| crate::select::best_phase(report, path, |phase| sweep(phase).len() >= 2));
    let Some(phase) = found else {
        return (
            Finding::NotMeasured,
            "not measured: no phase ran gunicorn-style workers at two worker counts".to_owned(),
        );
    };
    let members = sweep(phase);
    let figures: Vec<(u32, f64, String)> = members
        .iter()
        .filter_map(|&(workers, target)| {
            let (pss, text) = memory_text(report, target, phase)?;
            Some((workers, pss, text))
        })
        .collect();
    let (Some(fewest), Some(most)) = (figures.first(), figures.last()) else {
        return (Finding::NotMeasured, "not measured: no PSS figures".to_owned());
    };
    let listed: Vec<String> =
        figures.iter().map(|(workers, _, text)| format!("{} {text}", roles::workers_text(*workers))).collect();
    let grows = most.1 > fewest.1 && figures.windows(2).all(|pair| pair[1].1 >= 0.98 * pair[0].1);
    let text = format!("per worker count on {}: {}", report.phases[phase].name, listed.join(", "));
    (if grows { Finding::Holds } else { Finding::DoesNotHold }, text)
}
