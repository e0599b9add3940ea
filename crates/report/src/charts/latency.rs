//! The latency percentile distribution of one phase, HdrHistogram style: x is the percentile on a log scale of
//! 1/(1-p) from 0 to 99.99 %, y the latency, one curve per target from its histogram merged over repetitions.

use analysis::{format, LatencyAt};
use loadgen::LatencyBasis;
use plotters::prelude::*;

use super::{font, render_svg, target_legend, Figure, LegendEntry, LegendMark, CAPTION_SIZE, LABEL_SIZE};
use crate::page::Report;
use crate::palette;

/// x runs over log10(1/(1-p)): 0 is p = 0, 4 is p = 99.99 %.
const X_MAX: f64 = 4.0;
/// Points per decade of 1/(1-p).
const STEPS_PER_DECADE: u32 = 20;
const HEIGHT: u32 = 440;

/// One curve: (x, latency in ms) points.
struct Curve {
    target: usize,
    points: Vec<(f64, f64)>,
    /// Rate mode: the uncorrected service time, drawn dashed.
    service_time: Option<Vec<(f64, f64)>>,
}

pub fn figure(report: &Report<'_>, phase: usize) -> Figure {
    let info = &report.phases[phase];
    let targets = report.phase_targets(phase);
    let curves: Vec<Curve> = targets.iter().filter_map(|&target| curve(report, target, phase)).collect();
    let corrected = curves.iter().any(|curve| curve.service_time.is_some());
    let mut legend = target_legend(
        report,
        targets.iter().map(|&target| (target, curves.iter().any(|curve| curve.target == target))),
    );
    if corrected {
        legend.push(LegendEntry {
            label: "dashed: service time (uncorrected)".to_owned(),
            colour: palette::hex(palette::ANNOTATION),
            mark: LegendMark::Dashed,
        });
        legend.push(LegendEntry {
            label: "solid: corrected for coordinated omission".to_owned(),
            colour: palette::hex(palette::ANNOTATION),
            mark: LegendMark::Line,
        });
    }
    let repetitions = match info.repetitions {
        1 => String::new(),
        n => format!(" Histograms are merged over {n} repetitions."),
    };
    let basis = if corrected {
        " Solid curves count from each request's intended send time (wrk2's coordinated-omission correction); \
         dashed curves are the service time from the actual send."
    } else {
        ""
    };
    Figure {
        id: format!("chart-latency-{}", super::phase_anchor(phase, info.name)),
        title: format!("Latency distribution: {}", info.name),
        caption: format!(
            "The latency below which each share of requests completed ({}), the tail on the right: 99 % means one \
             request in a hundred was slower. Lower is better; both axes are logarithmic.{basis}{repetitions}",
            info.example.load_description
        ),
        legend,
        svg: render_svg(HEIGHT, |root| draw(root, report, &curves, info.name)),
    }
}

fn curve(report: &Report<'_>, target: usize, phase: usize) -> Option<Curve> {
    let latency = report.latency(target, phase)?;
    let points = sample_points(|percentile| latency.at(percentile));
    let service_time = (latency.basis == LatencyBasis::Corrected && latency.service_time.is_some())
        .then(|| sample_points(|percentile| latency.service_time_at(percentile).unwrap_or(f64::NAN)));
    Some(Curve { target, points, service_time })
}

/// (x, ms) at evenly spaced x = log10(1/(1-p)).
fn sample_points(latency_us_at: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
    (0..=(X_MAX as u32 * STEPS_PER_DECADE))
        .map(|step| {
            let x = f64::from(step) / f64::from(STEPS_PER_DECADE);
            (x, latency_us_at(percentile_at(x)) / 1000.0)
        })
        .filter(|(_, ms)| ms.is_finite())
        .collect()
}

/// The percentile (0..100) at x = log10(1/(1-p)).
pub fn percentile_at(x: f64) -> f64 {
    100.0 * (1.0 - 10f64.powf(-x))
}

fn draw(root: &super::Canvas<'_>, report: &Report<'_>, curves: &[Curve], title: &str) -> Result<(), super::ChartError> {
    let values = curves
        .iter()
        .flat_map(|curve| curve.points.iter().chain(curve.service_time.iter().flatten()).map(|&(_, ms)| ms));
    let (low, high) = values.fold((f64::INFINITY, 0.0f64), |(low, high), ms| (low.min(ms), high.max(ms)));
    let (low, high) = super::log_bounds(low, high);
    let mut chart = ChartBuilder::on(root)
        .caption(format!("{title}: latency by percentile"), font(CAPTION_SIZE))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..X_MAX, (low..high).log_scale().with_key_points(super::log_ticks(low, high)))?;
    chart
        .configure_mesh()
        .x_labels(5)
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-6 {
                format::percentile_label(percentile_at(x.round()))
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|ms| format::axis(*ms))
        .x_desc("percentile (log scale of 1/(1 − p))")
        .y_desc("latency (ms, log scale)")
        .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(LABEL_SIZE))
        .draw()?;
    if curves.is_empty() {
        let note = Text::new("no data for this phase", (200, 180), super::missing_font());
        root.draw(&note)?;
    }
    for curve in curves {
        let colour = report.colour(curve.target);
        chart.draw_series(LineSeries::new(curve.points.iter().copied(), colour.stroke_width(2)))?;
        if let Some(service) = &curve.service_time {
            chart.draw_series(DashedLineSeries::new(service.iter().copied(), 6, 4, colour.stroke_width(1)))?;
        }
    }
    Ok(())
}

/// The chart's one-line takeaway: the lowest and the highest p99 of the phase and their ratio, e.g. "p99: lowest
/// async-2 (12.1 ms), highest sync (48.0 ms), 3.97× apart."; None with no latency figures.
pub fn takeaway(report: &Report<'_>, phase: usize) -> Option<String> {
    let p99: Vec<(usize, LatencyAt)> = report
        .phase_targets(phase)
        .into_iter()
        .filter_map(|target| Some((target, report.latency(target, phase)?.bounded_at(99.0))))
        .filter(|(_, p99)| p99.us > 0.0)
        .collect();
    let lowest = p99.iter().min_by(|a, b| a.1.us.total_cmp(&b.1.us))?;
    let highest = p99.iter().max_by(|a, b| a.1.us.total_cmp(&b.1.us))?;
    let text = |at: &LatencyAt| format::at_least(format::latency_us(at.us), at.lower_bound);
    if lowest.0 == highest.0 {
        return Some(format!("p99: {} {}.", report.target_name(lowest.0), text(&lowest.1)));
    }
    let (low, high) = (report.target_name(lowest.0), report.target_name(highest.0));
    if lowest.1.lower_bound {
        // Two lower bounds bound no ratio.
        return Some(format!("p99: lowest {low} ({}), highest {high} ({}).", text(&lowest.1), text(&highest.1)));
    }
    Some(format!(
        "p99: lowest {low} ({}), highest {high} ({}), {} apart.",
        text(&lowest.1),
        text(&highest.1),
        format::at_least(format::ratio(highest.1.us / lowest.1.us), highest.1.lower_bound)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_maps_decades_to_nines() {
        assert!((percentile_at(0.0) - 0.0).abs() < 1e-9);
        assert!((percentile_at(1.0) - 90.0).abs() < 1e-9);
        assert!((percentile_at(2.0) - 99.0).abs() < 1e-9);
        assert!((percentile_at(4.0) - 99.99).abs() < 1e-9);
    }

    #[test]
    fn points_cover_zero_to_four_nines() {
        let points = sample_points(|percentile| percentile * 1000.0);
        assert_eq!(points.len(), 81);
        assert_eq!(points.first().map(|p| p.0), Some(0.0));
        assert_eq!(points.last().map(|p| p.0), Some(4.0));
        assert!((points[40].1 - 99.0).abs() < 1e-9, "x = 2 is p99 = 99 ms here");
    }
}
