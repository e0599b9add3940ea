//! One phase over time (first repetition): requests per second, p99 latency per second, and the CPU cores the
//! target used (sampled every ~100 ms, warm-up included), so warm-up, stalls and recoveries show.

use analysis::data::Measurement;
use analysis::format;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use results::ResourceSample;

use super::{font, render_svg, target_legend, Canvas, ChartError, Figure, CAPTION_SIZE, LABEL_SIZE};
use crate::page::Report;

const PANEL_HEIGHT: u32 = 250;
/// CPU use is averaged over at least this window: /proc counts CPU time in 10 ms ticks.
const CPU_WINDOW_MS: i64 = 500;
const WARMUP_SHADE: RGBColor = RGBColor(0xee, 0xee, 0xee);

/// One target's series in this phase.
struct Series {
    target: usize,
    requests: Vec<(f64, f64)>,
    p99_ms: Vec<(f64, f64)>,
    cpu_cores: Vec<(f64, f64)>,
}

pub fn figure(report: &Report<'_>, phase: usize) -> Figure {
    let info = &report.phases[phase];
    let targets = report.phase_targets(phase);
    let series: Vec<Series> = targets
        .iter()
        .filter_map(|&target| report.measurements(target, phase).next().map(|m| series_of(target, m)))
        .collect();
    let warmup = info.example.warmup_s;
    let first = match info.repetitions {
        1 => "",
        _ => " First repetition shown.",
    };
    Figure {
        id: format!("chart-timeline-{}", super::phase_anchor(phase, info.name)),
        title: format!("Over time: {}", info.name),
        caption: format!(
            "Per second of the measured period ({}): requests finished, their 99th percentile latency, and the \
             CPU cores the target used. The grey band is the {warmup} s warm-up, visible only in the CPU panel \
             (the load generator does not count warm-up requests).{first}",
            info.example.load_description
        ),
        legend: target_legend(
            report,
            targets.iter().map(|&target| (target, series.iter().any(|s| s.target == target))),
        ),
        svg: render_svg(PANEL_HEIGHT * 3, |root| draw(root, report, &series, info.name, warmup)),
    }
}

fn series_of(target: usize, measurement: &Measurement<'_>) -> Series {
    // A last second the measured period covers less than half of would read as a sudden drop: leave it out.
    let duration = measurement.load.duration_secs;
    let timeline: Vec<_> =
        measurement.load.timeline.iter().filter(|second| covered(second.second, duration) >= 0.5).collect();
    let requests = timeline
        .iter()
        .map(|second| (second.second as f64 + 0.5, second.requests as f64 / covered(second.second, duration)))
        .collect();
    let p99_ms = timeline
        .iter()
        .filter(|second| second.requests > second.errors && second.p99_us > 0)
        .map(|second| (second.second as f64 + 0.5, second.p99_us as f64 / 1000.0))
        .collect();
    Series { target, requests, p99_ms, cpu_cores: cpu_cores_over_time(&measurement.result.resources.samples) }
}

/// (seconds, cores) from cumulative CPU time samples: for each sample, the CPU time used since the latest sample
/// at least `CPU_WINDOW_MS` before it, per second, plotted at the middle of that window.
pub fn cpu_cores_over_time(samples: &[ResourceSample]) -> Vec<(f64, f64)> {
    let cpu = |sample: &ResourceSample| sample.cpu_user_s + sample.cpu_system_s;
    let mut points = Vec::new();
    let mut start = 0;
    for (index, sample) in samples.iter().enumerate() {
        while start + 1 < index && sample.t_ms - samples[start + 1].t_ms >= CPU_WINDOW_MS {
            start += 1;
        }
        let from = &samples[start];
        let elapsed_ms = sample.t_ms - from.t_ms;
        if index == start || elapsed_ms < CPU_WINDOW_MS {
            continue;
        }
        let middle_s = (sample.t_ms + from.t_ms) as f64 / 2000.0;
        points.push((middle_s, ((cpu(sample) - cpu(from)) / (elapsed_ms as f64 / 1000.0)).max(0.0)));
    }
    points
}

/// The part of a second of the timeline the measured period covered: the last one is usually partial.
fn covered(second: u64, duration_secs: f64) -> f64 {
    (duration_secs - second as f64).clamp(0.0, 1.0)
}

fn draw(root: &Canvas<'_>, report: &Report<'_>, series: &[Series], name: &str, warmup: f64) -> Result<(), ChartError> {
    let panels = root.split_evenly((3, 1));
    let x_low = series.iter().flat_map(|s| s.cpu_cores.first()).map(|p| p.0).fold(-warmup, f64::min).min(0.0);
    let x_high = series
        .iter()
        .flat_map(|s| s.requests.last().into_iter().chain(s.cpu_cores.last()))
        .map(|p| p.0 + 0.5)
        .fold(1.0, f64::max);
    let x_range = x_low..x_high;
    let pick = |select: fn(&Series) -> &Vec<(f64, f64)>| -> Vec<(usize, &Vec<(f64, f64)>)> {
        series.iter().map(|s| (s.target, select(s))).collect()
    };
    let panel = Panel { report, x_range: x_range.clone(), warmup: x_low < 0.0 };
    panel.linear(&panels[0], &format!("{name}: requests per second"), "req/s", &pick(|s| &s.requests))?;
    panel.log(&panels[1], &format!("{name}: p99 latency per second"), "p99 latency (ms, log)", &pick(|s| &s.p99_ms))?;
    panel.linear(&panels[2], &format!("{name}: CPU cores used"), "CPU cores", &pick(|s| &s.cpu_cores))?;
    Ok(())
}

/// What the three panels share.
struct Panel<'r, 'a> {
    report: &'r Report<'a>,
    x_range: std::ops::Range<f64>,
    warmup: bool,
}

impl Panel<'_, '_> {
    fn linear(
        &self,
        area: &DrawingArea<SVGBackend<'_>, Shift>,
        title: &str,
        y_desc: &str,
        lines: &[(usize, &Vec<(f64, f64)>)],
    ) -> Result<(), ChartError> {
        let high = lines.iter().flat_map(|(_, points)| points.iter().map(|p| p.1)).fold(0.0, f64::max);
        let high = if high > 0.0 { high * 1.15 } else { 1.0 };
        let mut chart = self.builder(area, title).build_cartesian_2d(self.x_range.clone(), 0.0..high)?;
        self.mesh(chart.configure_mesh(), 6, y_desc, &axis_tick)?;
        self.shade_and_lines(&mut chart, (0.0, high), lines)
    }

    fn log(
        &self,
        area: &DrawingArea<SVGBackend<'_>, Shift>,
        title: &str,
        y_desc: &str,
        lines: &[(usize, &Vec<(f64, f64)>)],
    ) -> Result<(), ChartError> {
        let values = lines.iter().flat_map(|(_, points)| points.iter().map(|p| p.1)).filter(|v| *v > 0.0);
        let (low, high) = values.fold((f64::INFINITY, 0.0f64), |(low, high), v| (low.min(v), high.max(v)));
        let (low, high) = super::log_bounds(low, high);
        let y_range = (low..high).log_scale().with_key_points(super::log_ticks(low, high));
        let mut chart = self.builder(area, title).build_cartesian_2d(self.x_range.clone(), y_range)?;
        self.mesh(chart.configure_mesh(), 20, y_desc, &axis_tick)?;
        self.shade_and_lines(&mut chart, (low, high), lines)
    }

    /// The warm-up shaded from `low` to `high` (when the run had one), then one line per target.
    fn shade_and_lines<Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, Y>>,
        (low, high): (f64, f64),
        lines: &[(usize, &Vec<(f64, f64)>)],
    ) -> Result<(), ChartError> {
        if self.warmup {
            chart.draw_series([Rectangle::new([(self.x_range.start, low), (0.0, high)], WARMUP_SHADE.filled())])?;
        }
        for (target, points) in lines {
            let colour = self.report.colour(*target);
            chart.draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))?;
        }
        Ok(())
    }

    fn builder<'b, 'c>(
        &self,
        area: &'b DrawingArea<SVGBackend<'c>, Shift>,
        title: &str,
    ) -> ChartBuilder<'b, 'c, SVGBackend<'c>> {
        let mut builder = ChartBuilder::on(area);
        builder
            .caption(title, font(CAPTION_SIZE))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(64);
        builder
    }

    fn mesh<'b, X, Y>(
        &self,
        mut mesh: plotters::chart::MeshStyle<'_, 'b, X, Y, SVGBackend<'_>>,
        y_labels: usize,
        y_desc: &str,
        y_format: &'b dyn Fn(&f64) -> String,
    ) -> Result<(), ChartError>
    where
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        mesh.y_labels(y_labels)
            .x_desc("seconds since the measured period began")
            .y_desc(y_desc)
            .x_label_formatter(&axis_tick)
            .y_label_formatter(y_format)
            .light_line_style(RGBColor(0xf4, 0xf4, 0xf4))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()?;
        Ok(())
    }
}

fn axis_tick(value: &f64) -> String {
    format::axis(*value)
}

/// The chart's one-line takeaway: the most and the fewest req/s over the phase (medians over repetitions), e.g.
/// "req/s: most async-2 (1,840), fewest sync (460)."; None without throughput figures.
pub fn takeaway(report: &Report<'_>, phase: usize) -> Option<String> {
    let rates: Vec<(usize, f64)> = report
        .phase_targets(phase)
        .into_iter()
        .filter_map(|target| Some((target, report.throughput(target, phase)?.median)))
        .collect();
    let most = rates.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let fewest = rates.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(format!(
        "req/s: most {} ({}), fewest {} ({}).",
        report.target_name(most.0),
        format::rate(most.1),
        report.target_name(fewest.0),
        format::rate(fewest.1)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t_ms: i64, cpu_s: f64) -> ResourceSample {
        ResourceSample { t_ms, cpu_user_s: cpu_s, ..Default::default() }
    }

    #[test]
    fn cpu_use_is_the_slope_of_cpu_time_over_half_second_windows() {
        let samples: Vec<ResourceSample> = (0..=10).map(|i| sample(i * 100, i as f64 * 0.2)).collect();
        let points = cpu_cores_over_time(&samples);
        assert_eq!(points.len(), 6, "one point per sample from 500 ms on: {points:?}");
        assert_eq!(points.last().map(|p| p.0), Some(0.75), "the last window ends at the last sample");
        for (_, cores) in points {
            assert!((cores - 2.0).abs() < 1e-9, "0.2 CPU s per 100 ms is two cores");
        }
    }

    #[test]
    fn uneven_sampling_still_reaches_the_end() {
        let times = [-518, -365, -189, -32, 112, 300, 520, 700, 1000, 1400, 1700, 2013];
        let samples: Vec<ResourceSample> = times.iter().map(|&t| sample(t, (t + 518) as f64 / 1000.0)).collect();
        let points = cpu_cores_over_time(&samples);
        let last = points.last().expect("points");
        assert!(last.0 > 1.6, "the last point sits in the last window: {points:?}");
        assert!(points.iter().all(|p| (p.1 - 1.0).abs() < 1e-9), "one core throughout: {points:?}");
    }

    #[test]
    fn a_partial_last_second_is_measured_by_what_it_covered() {
        assert_eq!(covered(0, 2.03), 1.0);
        assert!((covered(2, 2.03) - 0.03).abs() < 1e-9);
        assert_eq!(covered(3, 2.03), 0.0);
    }

    #[test]
    fn no_samples_no_points() {
        assert!(cpu_cores_over_time(&[]).is_empty());
        assert!(cpu_cores_over_time(&[sample(0, 0.0)]).is_empty());
    }
}
