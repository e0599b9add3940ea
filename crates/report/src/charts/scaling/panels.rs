//! What the scaling panels hold: the endpoints swept over connections, the families of targets that differ only
//! by their worker count, the phase each family is drawn from, and each panel's ideal line.

use analysis::endpoint::EndpointKind;
use analysis::format;
use results::{LoadModel, TargetResult};

use super::{Ideal, Line, Point, ScalingPanel};
use crate::page::Report;

/// One closed-loop phase per endpoint for the workers chart: the one where the families have the most measured
/// points (a dedicated worker sweep wins), then the one with the most connections.
pub(super) fn workers_phases(report: &Report<'_>, families: &[Vec<usize>]) -> Vec<usize> {
    let points = |phase: usize| -> usize {
        families
            .iter()
            .map(|members| members.iter().filter(|&&target| report.has_data(target, phase)).count())
            .filter(|&count| count >= 2)
            .sum()
    };
    let mut best: Vec<(String, usize, (usize, u32))> = Vec::new();
    for (index, phase) in report.phases.iter().enumerate().filter(|(_, phase)| !phase.kills_a_worker()) {
        let (Some(_), Some(connections)) = (phase.single_endpoint(), phase.connections()) else { continue };
        let work = phase.endpoints_text();
        let score = (points(index), connections);
        if score.0 == 0 {
            continue;
        }
        match best.iter_mut().find(|(existing, _, _)| *existing == work) {
            Some(entry) if score > entry.2 => *entry = (work, index, score),
            Some(_) => {}
            None => best.push((work, index, score)),
        }
    }
    best.into_iter().map(|(_, phase, _)| phase).collect()
}

/// One endpoint's concurrency sweep: its work in words, its path, and its phases with their connections.
pub(super) type Sweep<'r> = (String, &'r str, Vec<(usize, u32)>);

/// Endpoints with single-endpoint concurrency phases at two or more connection counts, told apart by the work
/// they ask (a `cpu_work` cost, a query).
pub(super) fn concurrency_sweeps<'r>(report: &'r Report<'_>) -> Vec<Sweep<'r>> {
    let mut sweeps: Vec<Sweep<'r>> = Vec::new();
    for (index, phase) in report.phases.iter().enumerate().filter(|(_, phase)| !phase.kills_a_worker()) {
        let (Some(path), Some(connections)) = (phase.single_endpoint(), phase.connections()) else { continue };
        let work = phase.endpoints_text();
        match sweeps.iter_mut().find(|(existing, _, _)| *existing == work) {
            Some((_, _, phases)) => phases.push((index, connections)),
            None => sweeps.push((work, path, vec![(index, connections)])),
        }
    }
    for (_, _, phases) in &mut sweeps {
        phases.sort_by_key(|&(_, connections)| connections);
    }
    sweeps.retain(|(_, _, phases)| {
        let mut distinct: Vec<u32> = phases.iter().map(|&(_, c)| c).collect();
        distinct.dedup();
        distinct.len() >= 2
    });
    sweeps
}

pub(super) fn concurrency_panel(report: &Report<'_>, work: &str, path: &str, phases: &[(usize, u32)]) -> ScalingPanel {
    let lines: Vec<Line> = report
        .targets
        .iter()
        .enumerate()
        .map(|(target, _)| Line {
            colour: report.colour(target),
            points: phases
                .iter()
                .filter_map(|&(phase, connections)| {
                    let value = report.throughput(target, phase)?;
                    Some(Point { x: f64::from(connections), target, value })
                })
                .collect(),
        })
        .filter(|line| !line.points.is_empty())
        .collect();
    let xs: Vec<f64> = phases.iter().map(|&(_, c)| f64::from(c)).collect();
    let kind = EndpointKind::of(path);
    let ideal = if kind.waits_on_upstream() {
        littles_law(report, &xs, |connections| connections)
    } else {
        linear_in_cores(report, &lines, &xs, "connections")
    };
    let formula = ideal.as_ref().map(|ideal| format!(" — ideal: {}", ideal.label)).unwrap_or_default();
    let name = format!("{work} ({})", kind.label());
    ScalingPanel { title: format!("{name}{formula}"), name, lines, ideal }
}

/// Little's law: C requests in flight, each waiting `delay`, complete C / delay a second.
fn littles_law(report: &Report<'_>, xs: &[f64], connections_at: impl Fn(f64) -> f64) -> Option<Ideal> {
    let delay_s = report.results.upstream.delay_ms / 1000.0;
    if delay_s <= 0.0 {
        return None;
    }
    Some(Ideal {
        points: xs.iter().map(|&x| (x, connections_at(x) / delay_s)).collect(),
        label: format!("C / {} upstream delay", format::latency_us(delay_s * 1e6)),
    })
}

/// Linear in `what` up to the cores given, from the best throughput at the smallest x.
fn linear_in_cores(report: &Report<'_>, lines: &[Line], xs: &[f64], what: &str) -> Option<Ideal> {
    let low = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let best_at_low = lines
        .iter()
        .flat_map(|line| &line.points)
        .filter(|point| point.x == low)
        .map(|point| point.value.median)
        .fold(0.0, f64::max);
    if best_at_low <= 0.0 {
        return None;
    }
    let cores = cores_given(report, lines);
    let per_unit = best_at_low / low.min(cores);
    let mut points: Vec<f64> = xs.to_vec();
    if cores > low && cores < xs.iter().copied().fold(0.0, f64::max) {
        points.push(cores);
    }
    points.sort_by(f64::total_cmp);
    points.dedup();
    Some(Ideal {
        points: points.into_iter().map(|x| (x, per_unit * x.min(cores))).collect(),
        label: format!("linear in {what} up to {cores} cores"),
    })
}

/// The most cores any target in the lines was pinned to; all online cores when the plan does not say.
fn cores_given(report: &Report<'_>, lines: &[Line]) -> f64 {
    let pinned = lines.iter().flat_map(|line| &line.points).filter_map(|point| report.target_cores(point.target)).max();
    pinned.unwrap_or(report.results.environment.cores.max(1) as usize) as f64
}

/// Targets with a worker count, grouped by everything else about them; groups with two or more worker counts.
pub(super) fn worker_families(report: &Report<'_>) -> Vec<Vec<usize>> {
    let mut families: Vec<(String, Vec<usize>)> = Vec::new();
    for (index, view) in report.targets.iter().enumerate() {
        if view.result.worker_count().is_none() {
            continue;
        }
        let key = family_key(view.result);
        match families.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, members)) => members.push(index),
            None => families.push((key, vec![index])),
        }
    }
    families
        .into_iter()
        .map(|(_, mut members)| {
            members.sort_by_key(|&target| report.targets[target].result.worker_count());
            members
        })
        .filter(|members| {
            let mut counts: Vec<Option<u32>> =
                members.iter().map(|&t| report.targets[t].result.worker_count()).collect();
            counts.dedup();
            counts.len() >= 2
        })
        .collect()
}

/// A target's identity without its worker count, bind address, port and upstream URL. Arguments are split at
/// whitespace: an external command run through `sh -c "exec gunicorn -w 2 ..."` holds its flags in one argument.
fn family_key(target: &TargetResult) -> String {
    let mut parts = vec![format!("{:?} {:?} {:?}", target.family, target.kind, target.threads)];
    let mut value_follows = false;
    for argument in target.command.iter().flat_map(|argument| argument.split_whitespace()) {
        if value_follows {
            value_follows = false;
            continue;
        }
        let flag = argument.split('=').next().unwrap_or(argument);
        if matches!(flag, "-w" | "--workers" | "-b" | "--bind" | "--port" | "--upstream") {
            value_follows = !argument.contains('=');
            continue;
        }
        if argument.len() > 2 && argument.starts_with("-w") && argument[2..].bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        parts.push(argument.to_owned());
    }
    parts.join(" ")
}

pub(super) fn workers_panel(report: &Report<'_>, phase: usize, families: &[Vec<usize>]) -> Option<ScalingPanel> {
    let lines: Vec<Line> = families
        .iter()
        .map(|members| Line {
            colour: report.colour(members[0]),
            points: members
                .iter()
                .filter_map(|&target| {
                    let workers = report.targets[target].result.worker_count()?;
                    let value = report.throughput(target, phase)?;
                    Some(Point { x: f64::from(workers), target, value })
                })
                .collect(),
        })
        .filter(|line| line.points.len() >= 2)
        .collect();
    if lines.is_empty() {
        return None;
    }
    let info = &report.phases[phase];
    let mut xs: Vec<f64> = lines.iter().flat_map(|line| line.points.iter().map(|point| point.x)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let kinds: Vec<EndpointKind> = info.example.endpoints.iter().map(|share| EndpointKind::of(&share.path)).collect();
    let ideal = match info.load_model() {
        LoadModel::Concurrency { connections } if kinds.iter().all(|kind| kind.waits_on_upstream()) => {
            littles_law(report, &xs, |_| f64::from(*connections))
        }
        _ if kinds.iter().any(|kind| kind.waits_on_upstream()) => None,
        _ => linear_in_cores(report, &lines, &xs, "workers"),
    };
    let formula = ideal.as_ref().map(|ideal| format!(" — ideal: {}", ideal.label)).unwrap_or_default();
    let name = format!("{}: {} ({})", info.name, info.endpoints_text(), info.example.load_description);
    Some(ScalingPanel { title: format!("{name}{formula}"), name, lines, ideal })
}

#[cfg(test)]
mod tests {
    use super::*;
    use results::{Family, TargetKind, TargetStatus};

    fn target(name: &str, command: &[&str], workers: u32) -> TargetResult {
        TargetResult {
            name: name.into(),
            family: Family::Rust,
            kind: TargetKind::Prefork,
            command: command.iter().map(|s| s.to_string()).collect(),
            workers: Some(workers),
            threads: Some(1),
            status: TargetStatus::Ok,
            phases: vec![],
            variant_of: None,
            role: None,
            keep_alive: None,
        }
    }

    #[test]
    fn family_key_ignores_worker_count_bind_and_upstream_only() {
        let one = target("a", &["rustcorn", "serve", "prefork", "-w", "1", "-k", "async", "--bind", "127.0.0.1:0"], 1);
        let two = target("b", &["rustcorn", "serve", "prefork", "--workers=2", "-k", "async", "--bind=127.0.0.1:0"], 2);
        let sync = target("c", &["rustcorn", "serve", "prefork", "-w4", "-k", "sync"], 4);
        assert_eq!(family_key(&one), family_key(&two));
        assert_ne!(family_key(&one), family_key(&sync));
        let gunicorn = |workers: u32, port: u32| {
            let line =
                format!("exec gunicorn -w {workers} -k uvicorn.workers.UvicornWorker --bind 127.0.0.1:{port} main:app");
            target("g", &["sh", "-c", &line], workers)
        };
        assert_eq!(family_key(&gunicorn(1, 18101)), family_key(&gunicorn(4, 18104)));
    }
}
