//! Scaling: req/s against concurrency (per endpoint) and against prefork workers (per phase), each with its ideal
//! line: Little's law (C / upstream delay) for endpoints that wait on the upstream, linear in cores otherwise.

use bench::results::{LoadModel, TargetResult};
use plotters::prelude::*;

use super::{font, reference_legend, render_svg, target_legend, Canvas, ChartError, Figure, CAPTION_SIZE, LABEL_SIZE};
use crate::data::{Report, Spread};
use crate::endpoint::EndpointKind;
use crate::format;
use crate::palette;

const PANEL_HEIGHT: u32 = 330;

/// One measured point: x (connections or workers), the target it belongs to, its throughput.
struct Point {
    x: f64,
    target: usize,
    value: Spread,
}

/// A line through points of one target (concurrency) or one family of targets differing by workers.
struct Line {
    colour: RGBColor,
    points: Vec<Point>,
}

struct Ideal {
    points: Vec<(f64, f64)>,
    label: String,
}

struct ScalingPanel {
    title: String,
    lines: Vec<Line>,
    ideal: Option<Ideal>,
}

/// req/s against connections, one panel per endpoint run at two or more concurrencies; None when there is none.
pub fn concurrency_figure(report: &Report<'_>) -> Option<Figure> {
    let panels: Vec<ScalingPanel> = concurrency_sweeps(report)
        .into_iter()
        .map(|(work, path, phases)| concurrency_panel(report, &work, path, &phases))
        .collect();
    if panels.is_empty() {
        return None;
    }
    let targets: Vec<usize> = involved_targets(&panels);
    let mut legend = target_legend(report, targets.into_iter().map(|target| (target, true)));
    legend.push(reference_legend("ideal (formula in each panel's title)"));
    Some(Figure {
        id: "chart-scaling-concurrency".to_owned(),
        title: "Scaling with concurrency".to_owned(),
        caption: "Successful req/s as the number of connections grows (closed loop), per endpoint; points are medians \
                  over repetitions with min-max whiskers. The dashed line is the ideal: for endpoints that wait on \
                  the upstream, Little's law (C connections / upstream delay); for CPU work, linear in connections up \
                  to the cores the targets were given, from the best single measurement at the lowest concurrency."
            .to_owned(),
        legend,
        svg: render_svg(PANEL_HEIGHT * panels.len() as u32, |root| {
            draw_panels(root, report, &panels, "connections (log scale)")
        }),
    })
}

/// req/s against worker processes, one panel per closed-loop phase where a family of targets differs only by its
/// worker count; None when the suite has no such family.
pub fn workers_figure(report: &Report<'_>) -> Option<Figure> {
    let families = worker_families(report);
    if families.is_empty() {
        return None;
    }
    let panels: Vec<ScalingPanel> = workers_phases(report, &families)
        .into_iter()
        .filter_map(|phase| workers_panel(report, phase, &families))
        .collect();
    if panels.is_empty() {
        return None;
    }
    let mut legend = target_legend(report, involved_targets(&panels).into_iter().map(|target| (target, true)));
    legend.push(reference_legend("ideal (formula in each panel's title)"));
    Some(Figure {
        id: "chart-scaling-workers".to_owned(),
        title: "Scaling with prefork workers".to_owned(),
        caption: "Successful req/s against the number of worker processes, for targets that differ only in their \
                  worker count (one line per such family, points in each target's colour), one panel per endpoint \
                  from the closed-loop phase that measured most of them. The dashed line is the \
                  ideal: linear in workers up to the cores given for CPU work, from the smallest worker count \
                  measured; Little's law (connections / upstream delay), whatever the workers, for I/O waits."
            .to_owned(),
        legend,
        svg: render_svg(PANEL_HEIGHT * panels.len() as u32, |root| {
            draw_panels(root, report, &panels, "worker processes (log scale)")
        }),
    })
}

/// One closed-loop phase per endpoint for the workers chart: the one where the families have the most measured
/// points (a dedicated worker sweep wins), then the one with the most connections.
fn workers_phases(report: &Report<'_>, families: &[Vec<usize>]) -> Vec<usize> {
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
type Sweep<'r> = (String, &'r str, Vec<(usize, u32)>);

/// Endpoints with single-endpoint concurrency phases at two or more connection counts, told apart by the work
/// they ask (a `cpu_work` cost, a query).
fn concurrency_sweeps<'r>(report: &'r Report<'_>) -> Vec<Sweep<'r>> {
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

fn concurrency_panel(report: &Report<'_>, work: &str, path: &str, phases: &[(usize, u32)]) -> ScalingPanel {
    let lines: Vec<Line> = report
        .targets
        .iter()
        .enumerate()
        .map(|(target, view)| Line {
            colour: view.colour,
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
    ScalingPanel { title: format!("{work} ({}){formula}", kind.label()), lines, ideal }
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
fn worker_families(report: &Report<'_>) -> Vec<Vec<usize>> {
    let mut families: Vec<(String, Vec<usize>)> = Vec::new();
    for (index, view) in report.targets.iter().enumerate() {
        if view.result.workers.is_none() {
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
            members.sort_by_key(|&target| report.targets[target].result.workers);
            members
        })
        .filter(|members| {
            let mut counts: Vec<Option<u32>> = members.iter().map(|&t| report.targets[t].result.workers).collect();
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

fn workers_panel(report: &Report<'_>, phase: usize, families: &[Vec<usize>]) -> Option<ScalingPanel> {
    let lines: Vec<Line> = families
        .iter()
        .map(|members| Line {
            colour: report.targets[members[0]].colour,
            points: members
                .iter()
                .filter_map(|&target| {
                    let workers = report.targets[target].result.workers?;
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
    Some(ScalingPanel {
        title: format!("{}: {} ({}){formula}", info.name, info.endpoints_text(), info.example.load_description),
        lines,
        ideal,
    })
}

fn involved_targets(panels: &[ScalingPanel]) -> Vec<usize> {
    let mut targets: Vec<usize> = panels
        .iter()
        .flat_map(|panel| panel.lines.iter().flat_map(|line| line.points.iter().map(|p| p.target)))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    targets
}

fn draw_panels(
    root: &Canvas<'_>,
    report: &Report<'_>,
    panels: &[ScalingPanel],
    x_desc: &str,
) -> Result<(), ChartError> {
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, report, panel, x_desc)?;
    }
    Ok(())
}

fn draw_panel(area: &Canvas<'_>, report: &Report<'_>, panel: &ScalingPanel, x_desc: &str) -> Result<(), ChartError> {
    let xs = panel
        .lines
        .iter()
        .flat_map(|line| line.points.iter().map(|p| p.x))
        .chain(panel.ideal.iter().flat_map(|ideal| ideal.points.iter().map(|p| p.0)));
    let (x_low, x_high) = xs.fold((f64::INFINITY, 0.0f64), |(low, high), x| (low.min(x), high.max(x)));
    let y_high = panel
        .lines
        .iter()
        .flat_map(|line| line.points.iter().map(|p| p.value.max.max(p.value.median)))
        .chain(panel.ideal.iter().flat_map(|ideal| ideal.points.iter().map(|p| p.1)))
        .fold(0.0, f64::max);
    let y_high = if y_high > 0.0 { y_high * 1.15 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, font(CAPTION_SIZE))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((x_low / 1.3..x_high * 1.3).log_scale().base(2.0), 0.0..y_high)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("successful req/s")
        .x_labels(12)
        .x_label_formatter(&|x| format::count_axis(*x))
        .y_label_formatter(&|y| format::axis(*y))
        .light_line_style(RGBColor(0xf4, 0xf4, 0xf4))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(LABEL_SIZE))
        .draw()?;
    for line in &panel.lines {
        let mut points: Vec<&Point> = line.points.iter().collect();
        points.sort_by(|a, b| a.x.total_cmp(&b.x));
        chart
            .draw_series(LineSeries::new(points.iter().map(|p| (p.x, p.value.median)), line.colour.stroke_width(2)))?;
        for point in points {
            let colour = report.targets[point.target].colour;
            if point.value.n > 1 && point.value.max > point.value.min {
                let style = colour.stroke_width(1);
                let area = chart.plotting_area();
                area.draw(&PathElement::new(vec![(point.x, point.value.min), (point.x, point.value.max)], style))?;
                for end in [point.value.min, point.value.max] {
                    area.draw(&(EmptyElement::at((point.x, end)) + PathElement::new(vec![(-5, 0), (5, 0)], style)))?;
                }
            }
            chart.draw_series([Circle::new((point.x, point.value.median), 4, colour.filled())])?;
        }
    }
    // Drawn last so it stays visible where the measurements sit on it.
    if let Some(ideal) = &panel.ideal {
        let style = palette::ANNOTATION.stroke_width(2);
        chart.draw_series(DashedLineSeries::new(ideal.points.iter().copied(), 8, 5, style))?;
    }
    Ok(())
}

/// A scaling chart's one-line takeaway: the line that gained the most from its first point to its last, e.g.
/// "Largest gain: sync on /sync-google, 6.1× from 1 to 32 connections."; None without a line of two points.
fn takeaway(report: &Report<'_>, panels: &[ScalingPanel], unit: &str) -> Option<String> {
    let (panel, first, last) = panels
        .iter()
        .flat_map(|panel| panel.lines.iter().map(move |line| (panel, line)))
        .filter_map(|(panel, line)| Some((panel, line.points.first()?, line.points.last()?)))
        .filter(|(_, first, last)| last.x > first.x && first.value.median > 0.0)
        .max_by(|a, b| (a.2.value.median / a.1.value.median).total_cmp(&(b.2.value.median / b.1.value.median)))?;
    let target = if first.target == last.target {
        report.target_name(last.target).to_owned()
    } else {
        format!("{} to {}", report.target_name(first.target), report.target_name(last.target))
    };
    Some(format!(
        "Largest gain: {target} on {}, {} from {} to {} {unit}.",
        panel.title,
        format::ratio(last.value.median / first.value.median),
        first.x,
        last.x
    ))
}

/// The concurrency chart's takeaway (see [`takeaway`]).
pub fn concurrency_takeaway(report: &Report<'_>) -> Option<String> {
    let panels: Vec<ScalingPanel> = concurrency_sweeps(report)
        .into_iter()
        .map(|(work, path, phases)| concurrency_panel(report, &work, path, &phases))
        .collect();
    takeaway(report, &panels, "connections")
}

/// The workers chart's takeaway (see [`takeaway`]).
pub fn workers_takeaway(report: &Report<'_>) -> Option<String> {
    let families = worker_families(report);
    let panels: Vec<ScalingPanel> = workers_phases(report, &families)
        .into_iter()
        .filter_map(|phase| workers_panel(report, phase, &families))
        .collect();
    takeaway(report, &panels, "workers")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bench::results::{Family, TargetKind, TargetStatus};

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
