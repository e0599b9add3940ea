//! Scaling: req/s against concurrency (per endpoint) and against prefork workers (per phase), each with its ideal
//! line: Little's law (C / upstream delay) for endpoints that wait on the upstream, linear in cores otherwise. A
//! panel whose targets are level at every point is not drawn: one sentence gives its figures instead.

mod draw;
mod panels;

use plotters::prelude::*;

use super::{level_sentence, reference_legend, render_svg, span_text, target_legend, Figure, Gated};
use crate::page::Report;
use analysis::data::Spread;
use analysis::format;
use analysis::select;
use analysis::verdict::{figures_level, LevelBasis};

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

/// What a scaling chart's x axis counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Axis {
    /// Each target is a line over several connection counts: targets are compared at each count.
    Connections,
    /// Each target is one point, at its own worker count: targets are compared over the whole panel.
    Workers,
}

impl Axis {
    fn unit(self) -> &'static str {
        match self {
            Axis::Connections => "connections",
            Axis::Workers => "workers",
        }
    }
}

struct ScalingPanel {
    /// What the panel measures, for the sentence that replaces it when its targets are level.
    name: String,
    /// `name` with the ideal line's formula.
    title: String,
    lines: Vec<Line>,
    ideal: Option<Ideal>,
}

/// req/s against connections, one panel per endpoint run at two or more concurrencies whose targets differ at
/// some concurrency; no figure and no sentence when no endpoint ran such a sweep.
pub fn concurrency(report: &Report<'_>) -> Gated {
    let panels: Vec<ScalingPanel> = panels::concurrency_sweeps(report)
        .into_iter()
        .map(|(work, path, phases)| panels::concurrency_panel(report, &work, path, &phases))
        .collect();
    let chart = Chart {
        id: "chart-scaling-concurrency",
        title: "Scaling with concurrency",
        caption: "Successful req/s as the number of connections grows (closed loop), per endpoint; points are medians \
                  over repetitions with min-max whiskers. The dashed line is the ideal: for endpoints that wait on \
                  the upstream, Little's law (C connections / upstream delay); for CPU work, linear in connections up \
                  to the cores the targets were given, from the best single measurement at the lowest concurrency.",
        axis: Axis::Connections,
        x_desc: "connections (log scale)",
    };
    gated(report, panels, &chart)
}

/// req/s against worker processes, one panel per closed-loop phase where a family of targets differs only by its
/// worker count, drawn where those targets differ; no figure and no sentence when the suite has no such family.
pub fn workers(report: &Report<'_>) -> Gated {
    let families = panels::worker_families(report);
    let panels: Vec<ScalingPanel> = panels::workers_phases(report, &families)
        .into_iter()
        .filter_map(|phase| panels::workers_panel(report, phase, &families))
        .collect();
    let chart = Chart {
        id: "chart-scaling-workers",
        title: "Scaling with prefork workers",
        caption: "Successful req/s against the number of worker processes, for targets that differ only in their \
                  worker count (one line per such family, points in each target's colour), one panel per endpoint \
                  from the closed-loop phase that measured most of them. The dashed line is the ideal: linear in \
                  workers up to the cores given for CPU work, from the smallest worker count measured; Little's law \
                  (connections / upstream delay), whatever the workers, for I/O waits.",
        axis: Axis::Workers,
        x_desc: "worker processes (log scale)",
    };
    gated(report, panels, &chart)
}

/// What tells the two scaling charts apart.
struct Chart {
    id: &'static str,
    title: &'static str,
    caption: &'static str,
    axis: Axis,
    x_desc: &'static str,
}

/// The chart of the panels whose targets differ, its takeaway, and the sentence for the panels left out.
fn gated(report: &Report<'_>, panels: Vec<ScalingPanel>, chart: &Chart) -> Gated {
    let (panels, level) = split_level(report, panels, chart.axis, chart.title);
    let takeaway = takeaway(report, &panels, chart.axis.unit());
    let figure = (!panels.is_empty()).then(|| {
        let mut legend = target_legend(report, involved_targets(&panels).into_iter().map(|target| (target, true)));
        legend.push(reference_legend("ideal (formula in each panel's title)"));
        Figure {
            id: chart.id.to_owned(),
            title: chart.title.to_owned(),
            caption: chart.caption.to_owned(),
            legend,
            svg: render_svg(PANEL_HEIGHT * panels.len() as u32, |root| {
                draw::draw_panels(root, report, &panels, chart.x_desc)
            }),
        }
    });
    Gated { figure, takeaway, level }
}

/// The panels to draw, and the sentence for those left out: a panel is left out when at each of its x values
/// (connections or workers) every target it draws there is level with the others, by the verdict's rule.
fn split_level(
    report: &Report<'_>,
    panels: Vec<ScalingPanel>,
    axis: Axis,
    what: &str,
) -> (Vec<ScalingPanel>, Option<String>) {
    let mut drawn = Vec::new();
    let mut left_out = Vec::new();
    for panel in panels {
        match level_text(report, &panel, axis) {
            Some(text) => left_out.push(text),
            None => drawn.push(panel),
        }
    }
    (drawn, level_sentence(what, &left_out))
}

/// "/sync-google (blocking I/O): 9.80 req/s at 1, 78.1–80.2 req/s at 8 connections" and why it is level, when the
/// panel's targets are level at each x; None when they differ at some x, or when an x has a single target.
fn level_text(report: &Report<'_>, panel: &ScalingPanel, axis: Axis) -> Option<(String, LevelBasis)> {
    let mut xs: Vec<f64> = panel.lines.iter().flat_map(|line| line.points.iter().map(|point| point.x)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let groups: Vec<Vec<&Point>> = if axis == Axis::Workers {
        vec![panel.lines.iter().flat_map(|line| &line.points).collect()]
    } else {
        xs.iter().map(|&x| panel.lines.iter().flat_map(|line| &line.points).filter(|p| p.x == x).collect()).collect()
    };
    let closed_throughput =
        |target: usize, phase: usize| report.throughput(target, phase).filter(|_| select::closed_loop(report, phase));
    let mut parts = Vec::new();
    let mut basis = None;
    for group in &groups {
        let spreads: Vec<Spread> = group.iter().map(|point| point.value).collect();
        let span = figures_level(report, &spreads, closed_throughput)?;
        basis.get_or_insert(span.basis);
        let at = if axis == Axis::Workers {
            format!("at {}", span_text(xs[0], xs[xs.len() - 1], format::count_axis))
        } else {
            format!("at {}", format::count_axis(group[0].x))
        };
        parts.push(format!("{} req/s {at}", span_text(span.low, span.high, format::rate)));
    }
    Some((format!("{}: {} {}", panel.name, parts.join(", "), axis.unit()), basis?))
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
