//! The claims about CPU-bound work and cores, read from the closed-loop /cpu-intensive phases: one event loop uses
//! one core at most (claim 5), gunicorn's UvicornWorker processes use the cores and serve more (claim 6), and
//! adding workers past the cores stops paying (claim 8).

use results::Family;

use super::roles::{self, Role};
use super::{closed_phase_with, cores_used, not_measured, ratio_range, req_per_s, Check, Finding, CPU_BOUND, ONE_CORE};
use crate::data::RunView;
use crate::format;

const PATH: &str = "/cpu-intensive";

/// The multi-process model "serves more" when it serves at least this much more than the one-process model...
const SCALING_RATIO: f64 = 1.3;
/// ...and more workers "stop paying" when they add no more than this.
const FLAT_RATIO: f64 = 1.1;

/// Claim 5: a single event loop cannot use a second core for CPU work. Judged only where it was given two.
pub fn single_loop_one_core(report: &RunView<'_>, family: Family) -> Check {
    let given = |target: usize, phase: usize| report.cores_in(target, phase).unwrap_or(1);
    let found = closed_phase_with(report, PATH, |phase| {
        roles::find(report, family, Role::SingleLoop, |t| report.has_data(t, phase) && given(t, phase) >= 2)
    });
    let Some((phase, target)) = found else {
        let what = match roles::originals(report, family, Role::SingleLoop).first() {
            Some(&target) => format!(
                "{} never had two cores in a /cpu-intensive phase, so whether it could use the second is not measured",
                report.target_name(target)
            ),
            None => "no single-process event-loop target ran /cpu-intensive".to_owned(),
        };
        return not_measured(family, what);
    };
    let cores = cores_used(report, target, phase);
    let evidence = format!(
        "{} used {} cores of the {} it was given on /cpu-intensive ({} req/s)",
        report.target_name(target),
        format::significant(cores, 3),
        given(target, phase),
        format::rate(req_per_s(report, target, phase))
    );
    if cores < CPU_BOUND {
        let what = format!(
            "{evidence}: not one core's worth, so something other than its CPU held it back (the load, or a machine \
             busy with other work) and the run cannot tell"
        );
        return Check::new(family, Finding::NotMeasured, what);
    }
    let finding = if cores <= ONE_CORE { Finding::Holds } else { Finding::DoesNotHold };
    Check::new(family, finding, evidence)
}

/// Claim 6: gunicorn with UvicornWorker processes uses the cores and serves more than uvicorn alone.
pub fn prefork_scales(report: &RunView<'_>, family: Family) -> Check {
    let pair = |phase: usize| {
        let has = |t: usize| report.has_data(t, phase);
        let prefork = roles::find(report, family, Role::PreforkAsync, |t| has(t) && roles::several_workers(report, t))?;
        Some((prefork, roles::find(report, family, Role::SingleLoop, has)?))
    };
    let Some((phase, _)) = closed_phase_with(report, PATH, |phase| pair(phase).map(|(prefork, _)| prefork)) else {
        return not_measured(family, "no /cpu-intensive phase ran a multi-process and a single-process event loop");
    };
    let Some((prefork, single)) = pair(phase) else {
        return not_measured(family, "no /cpu-intensive phase ran a multi-process and a single-process event loop");
    };
    let (prefork_rate, single_rate) = (req_per_s(report, prefork, phase), req_per_s(report, single, phase));
    let ratio = if single_rate > 0.0 { prefork_rate / single_rate } else { f64::INFINITY };
    let (prefork_cores, single_cores) = (cores_used(report, prefork, phase), cores_used(report, single, phase));
    let evidence = format!(
        "on /cpu-intensive {} served {} req/s on {} cores, {} {} ({} req/s on {} cores; the ratio {})",
        report.target_name(prefork),
        format::rate(prefork_rate),
        format::significant(prefork_cores, 3),
        format::ratio(ratio),
        report.target_name(single),
        format::rate(single_rate),
        format::significant(single_cores, 3),
        ratio_range(report, prefork, single, phase)
    );
    if prefork_cores <= ONE_CORE && single_cores < CPU_BOUND {
        let what = format!(
            "{evidence}: neither was held back by its CPU (the load, or a machine busy with other work, set the pace), \
             so the run cannot tell"
        );
        return Check::new(family, Finding::NotMeasured, what);
    }
    let finding = Finding::of(prefork_cores > ONE_CORE, ratio >= SCALING_RATIO);
    let evidence = match finding {
        Finding::Partly if prefork_cores > ONE_CORE => {
            format!(
                "{evidence}: it uses the cores, but serves less than {} the one process",
                format::ratio(SCALING_RATIO)
            )
        }
        Finding::Partly => format!("{evidence}: it serves more, on one core"),
        _ => evidence,
    };
    Check::new(family, finding, evidence)
}

/// Claim 8: -w should follow the core count. A worker sweep past the cores: throughput rises up to the cores and
/// stops there.
pub fn workers_follow_cores(report: &RunView<'_>, family: Family) -> Check {
    let sweep = |phase: usize| -> Vec<(u32, usize)> {
        let mut members: Vec<(u32, usize)> = roles::originals(report, family, Role::PreforkAsync)
            .into_iter()
            .filter(|&target| report.has_data(target, phase))
            .filter_map(|target| Some((report.targets[target].result.worker_count()?, target)))
            .collect();
        members.sort_unstable();
        members.dedup_by_key(|(workers, _)| *workers);
        members
    };
    // The cores the sweep could use: a one-worker target may be pinned to one core, the others share them all.
    let cores_of = |phase: usize, members: &[(u32, usize)]| {
        members.iter().filter_map(|&(_, target)| report.cores_in(target, phase)).max().unwrap_or(1) as u32
    };
    let past_the_cores = |phase: usize| {
        let members = sweep(phase);
        let cores = cores_of(phase, &members);
        let (&(fewest, first), &(most, _)) = (members.first()?, members.last()?);
        (members.len() >= 3 && fewest < cores && most > cores).then_some(first)
    };
    let Some((phase, _)) = closed_phase_with(report, PATH, past_the_cores) else {
        return not_measured(family, "no /cpu-intensive phase ran gunicorn-style workers from below to past the cores");
    };
    let members = sweep(phase);
    let cores = cores_of(phase, &members);
    // Every worker count asked about below is one of the members.
    let target_of = |workers: u32| members.iter().find(|(w, _)| *w == workers).map_or(0, |&(_, target)| target);
    let rate = |workers: u32| req_per_s(report, target_of(workers), phase);
    let (Some(&(fewest, _)), Some(&(most, _))) = (members.first(), members.last()) else {
        return not_measured(family, "no /cpu-intensive phase ran gunicorn-style workers from below to past the cores");
    };
    let at_cores = members.iter().rfind(|(workers, _)| *workers <= cores).map_or(fewest, |(workers, _)| *workers);
    let rise = rate(at_cores) / rate(fewest).max(f64::MIN_POSITIVE);
    let beyond = rate(most) / rate(at_cores).max(f64::MIN_POSITIVE);
    let points: Vec<String> =
        members.iter().map(|&(workers, _)| format!("{workers}: {} req/s", format::rate(rate(workers)))).collect();
    let evidence = format!(
        "on /cpu-intensive with {cores} cores, by workers: {}; {at_cores} workers serve {} {fewest} ({}), {most} \
         serve {} {at_cores} ({})",
        points.join(", "),
        format::ratio(rise),
        ratio_range(report, target_of(at_cores), target_of(fewest), phase),
        format::ratio(beyond),
        ratio_range(report, target_of(most), target_of(at_cores), phase)
    );
    let fewest_cores = members.first().map_or(0.0, |&(_, target)| cores_used(report, target, phase));
    if fewest_cores < CPU_BOUND {
        let what = format!(
            "{evidence}; but {} used {} cores, less than one core's worth: something other than the CPU held it \
             back (the load, or a machine busy with other work), so the run cannot tell what the cores do",
            roles::workers_text(fewest),
            format::significant(fewest_cores, 3)
        );
        return Check::new(family, Finding::NotMeasured, what);
    }
    let (finding, evidence) = if beyond >= SCALING_RATIO {
        (Finding::DoesNotHold, format!("{evidence}: throughput kept rising past the cores"))
    } else if rise >= SCALING_RATIO && beyond <= FLAT_RATIO {
        (Finding::Holds, format!("{evidence}: it rises up to the cores and stops there"))
    } else if rise < SCALING_RATIO {
        (Finding::Partly, format!("{evidence}: it stops past the cores, but it did not rise up to them either"))
    } else {
        (Finding::Partly, format!("{evidence}: it rises up to the cores, and a little past them"))
    };
    Check::new(family, finding, evidence)
}
