//! The latency-versus-throughput chart of a capacity phase: for each target, p50 (dashed) and p99 (solid) against
//! the rate it achieved at each open-loop step of its search and confirmations, the latency on a log axis, the
//! objective as a horizontal line and each target's capacity as a vertical one. Where a curve turns up is where
//! the model breaks.

use analysis::format;
use plotters::prelude::*;

use super::{font, render_svg, target_legend, Figure, LegendEntry, LegendMark, CAPTION_SIZE, LABEL_SIZE};
use crate::page::Report;
use crate::palette;

const HEIGHT: u32 = 460;

/// One target's steps, by achieved rate: (req/s, p50 ms, p99 ms, the p99 is a lower bound).
struct Curve {
    target: usize,
    points: Vec<(f64, f64, f64, bool)>,
    /// The median of its capacity estimates, req/s.
    capacity: Option<f64>,
}

pub fn figure(report: &Report<'_>, phase: usize) -> Figure {
    let info = &report.phases[phase];
    let targets = report.phase_targets(phase);
    let curves: Vec<Curve> = targets.iter().filter_map(|&target| curve(report, target, phase)).collect();
    let objective = objective(report, phase);
    let mut legend = target_legend(
        report,
        targets.iter().map(|&target| (target, curves.iter().any(|curve| curve.target == target))),
    );
    let annotation = palette::hex(palette::ANNOTATION);
    legend.push(LegendEntry { label: "solid: p99".to_owned(), colour: annotation.clone(), mark: LegendMark::Line });
    legend.push(LegendEntry { label: "dashed: p50".to_owned(), colour: annotation.clone(), mark: LegendMark::Dashed });
    if let Some((words, _)) = &objective {
        legend.push(LegendEntry { label: format!("objective: {words}"), colour: annotation, mark: LegendMark::Swatch });
    }
    Figure {
        id: format!("chart-capacity-{}", super::phase_anchor(phase, info.name)),
        title: format!("Latency against throughput: {}", info.name),
        caption: "Each point is one open-loop step of the capacity search or of a confirmation: the rate the target \
                  achieved, and its p50 and p99 counted from each request's intended send time, requests still \
                  unanswered at the step's close counted at their age (a hollow point is such a lower bound). The \
                  grey line is the latency objective; each target's vertical line is its capacity, the highest rate \
                  at which the objective held (median over the search and its confirmations). Both axes are \
                  logarithmic."
            .to_owned(),
        legend,
        svg: render_svg(HEIGHT, |root| draw(root, report, &curves, objective.map(|(_, ms)| ms), info.name)),
    }
}

/// The objective in words and its latency bound in ms, from the phase's first capacity record.
fn objective(report: &Report<'_>, phase: usize) -> Option<(String, f64)> {
    let capacity = report.phase_targets(phase).into_iter().find_map(|target| {
        report.measurements(target, phase).find_map(|measurement| measurement.result.capacity.as_ref())
    })?;
    Some((capacity.objective.clone(), capacity.objective_latency_us as f64 / 1000.0))
}

fn curve(report: &Report<'_>, target: usize, phase: usize) -> Option<Curve> {
    let mut points: Vec<(f64, f64, f64, bool)> = report
        .measurements(target, phase)
        .filter_map(|measurement| measurement.result.capacity.as_ref())
        .flat_map(|capacity| &capacity.steps)
        .filter(|step| step.achieved_per_second > 0.0)
        .map(|step| {
            let ms = |micros: u64| micros as f64 / 1000.0;
            (step.achieved_per_second, ms(step.p50_us), ms(step.p99_us), step.p99_lower_bound)
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let capacity = report.capacity(target, phase).map(|spread| spread.median);
    Some(Curve { target, points, capacity })
}

fn draw(
    root: &super::Canvas<'_>,
    report: &Report<'_>,
    curves: &[Curve],
    objective_ms: Option<f64>,
    title: &str,
) -> Result<(), super::ChartError> {
    let rates = curves.iter().flat_map(|curve| curve.points.iter().map(|point| point.0));
    let (rate_low, rate_high) =
        rates.fold((f64::INFINITY, 0.0f64), |(low, high), rate| (low.min(rate), high.max(rate)));
    let latencies =
        curves.iter().flat_map(|curve| curve.points.iter().flat_map(|point| [point.1, point.2])).chain(objective_ms);
    let (low, high) = latencies.fold((f64::INFINITY, 0.0f64), |(low, high), ms| (low.min(ms), high.max(ms)));
    let (rate_low, rate_high) = super::log_bounds(rate_low, rate_high);
    let (low, high) = super::log_bounds(low, high);
    let mut chart = ChartBuilder::on(root)
        .caption(format!("{title}: latency against achieved rate"), font(CAPTION_SIZE))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (rate_low..rate_high).log_scale().with_key_points(super::log_ticks(rate_low, rate_high)),
            (low..high).log_scale().with_key_points(super::log_ticks(low, high)),
        )?;
    chart
        .configure_mesh()
        .x_label_formatter(&|rate| format::rate(*rate))
        .y_label_formatter(&|ms| format::axis(*ms))
        .x_desc("achieved req/s (log scale)")
        .y_desc("latency (ms, log scale)")
        .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(LABEL_SIZE))
        .draw()?;
    if curves.is_empty() {
        root.draw(&Text::new("no capacity steps in this phase", (200, 180), super::missing_font()))?;
    }
    if let Some(ms) = objective_ms {
        let line = [(rate_low, ms), (rate_high, ms)];
        chart.draw_series(LineSeries::new(line, palette::ANNOTATION.stroke_width(2)))?;
    }
    for curve in curves {
        let colour = report.colour(curve.target);
        let p50 = curve.points.iter().map(|point| (point.0, point.1));
        chart.draw_series(DashedLineSeries::new(p50, 6, 4, colour.stroke_width(1)))?;
        chart.draw_series(LineSeries::new(
            curve.points.iter().map(|point| (point.0, point.2)),
            colour.stroke_width(2),
        ))?;
        chart.draw_series(curve.points.iter().map(|&(rate, _, p99, lower_bound)| {
            let style = if lower_bound { colour.stroke_width(2) } else { colour.filled() };
            Circle::new((rate, p99), 4, style)
        }))?;
        if let Some(capacity) = curve.capacity.filter(|&rate| rate > 0.0) {
            let line = [(capacity, low), (capacity, high)];
            chart.draw_series(DashedLineSeries::new(line, 3, 3, colour.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// "Capacity at p99 <= 250 ms, failures <= 0.1 %, achieved >= 98 % of offered: async-1 10,150 req/s
/// (9,800–10,400), sync 637 req/s (620–655)." in the verdict's order; None without capacities.
pub fn takeaway(report: &Report<'_>, phase: usize) -> Option<String> {
    let (objective, _) = objective(report, phase)?;
    let verdict = report.findings.verdicts.iter().find(|verdict| verdict.phase == phase);
    let figures: Vec<String> = match verdict {
        Some(verdict) => verdict
            .ranking
            .iter()
            .map(|entry| format!("{} {}", report.target_name(entry.target), verdict.cell_text(entry)))
            .collect(),
        None => report
            .phase_targets(phase)
            .into_iter()
            .filter_map(|target| {
                let spread = report.capacity(target, phase)?;
                Some(format!("{} {} req/s", report.target_name(target), format::rate(spread.median)))
            })
            .collect(),
    };
    (!figures.is_empty()).then(|| format!("Capacity at {objective}: {}.", figures.join(", ")))
}
