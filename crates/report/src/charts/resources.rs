//! What each target cost: CPU cores used and peak memory (RSS, with PSS inside it), one panel per phase, from the
//! driver's /proc sampling of the target's whole process tree. A phase whose targets are level on the figure gets no
//! panel: the sentence under the chart names it with its span.

use analysis::data::Spread;
use analysis::format;
use analysis::verdict::{figures_level, LevelBasis, LevelSpan};

use super::{
    bar_panels_height, draw_bar_panels, level_sentence, render_svg, span_text, target_legend, Bar, BarPanel, BarRow,
    Figure, Gated,
};
use crate::page::Report;

/// CPU cores used, one panel per phase whose targets differ on it.
pub fn cpu(report: &Report<'_>) -> Gated {
    let cores = |target: usize, phase: usize| report.cpu_cores(target, phase);
    let (drawn, left_out) = split_level(report, |phase| level_of(report, phase, cores));
    let panels = panels(report, &drawn, |target, phase| {
        report.cpu_cores(target, phase).map(|value| Bar {
            value,
            inner: None,
            text: format!("{} cores", format::significant(value.median, 3)),
        })
    });
    let figure = (!panels.is_empty()).then(|| Figure {
        id: "chart-cpu".to_owned(),
        title: "CPU cores used".to_owned(),
        caption: "CPU time (user + system) of the target's whole process tree per second of the measured period: \
                  1.0 is one core fully busy. A model that cannot use more than one core stays at or below 1.0."
            .to_owned(),
        legend: target_legend(report, (0..report.targets.len()).map(|target| (target, true))),
        svg: render_svg(bar_panels_height(&panels), |root| {
            draw_bar_panels(root, &panels, "CPU cores used (average)", &format::axis)
        }),
    });
    let level =
        level_sentence("CPU cores used", &named(report, &left_out, |value| format::significant(value, 3), "cores"));
    Gated { figure, takeaway: cpu_takeaway(report), level }
}

/// Peak RSS with PSS inside it, one panel per phase whose targets differ on either.
pub fn memory(report: &Report<'_>) -> Gated {
    let (drawn, left_out) = split_level(report, |phase| {
        let rss = level_of(report, phase, |target, phase| report.rss_peak(target, phase))?;
        let measured_pss = report.phase_targets(phase).iter().any(|&target| report.pss_peak(target, phase).is_some());
        if measured_pss {
            level_of(report, phase, |target, phase| report.pss_peak(target, phase))?;
        }
        Some(rss)
    });
    let panels = panels(report, &drawn, |target, phase| {
        let rss = report.rss_peak(target, phase)?;
        let pss = report.pss_peak(target, phase).map(|spread| spread.median);
        let text = match pss {
            Some(pss) => format!("RSS {} · PSS {} MiB", format::mib(rss.median), format::mib(pss)),
            None => format!("RSS {} MiB (no PSS)", format::mib(rss.median)),
        };
        Some(Bar { value: rss, inner: pss, text })
    });
    let figure = (!panels.is_empty()).then(|| Figure {
        id: "chart-memory".to_owned(),
        title: "Memory: peak RSS and PSS".to_owned(),
        caption: "Peak resident memory of the target's process tree. The pale bar is RSS summed over processes \
                  (shared pages counted once per process); the solid bar inside it is PSS, which splits shared \
                  pages between the processes that share them: the honest total for prefork models."
            .to_owned(),
        legend: target_legend(report, (0..report.targets.len()).map(|target| (target, true))),
        svg: render_svg(bar_panels_height(&panels), |root| {
            draw_bar_panels(root, &panels, "peak memory (MiB)", &|value| format::axis(value / (1024.0 * 1024.0)))
        }),
    });
    let level = level_sentence("Peak memory", &named(report, &left_out, format::mib, "MiB RSS"));
    Gated { figure, takeaway: memory_takeaway(report), level }
}

/// Whether the targets measured in `phase` all have `figure` and are level on it (see [`figures_level`]).
fn level_of(report: &Report<'_>, phase: usize, figure: impl Fn(usize, usize) -> Option<Spread>) -> Option<LevelSpan> {
    let spreads: Vec<Spread> = report
        .phase_targets(phase)
        .into_iter()
        .filter(|&target| report.has_data(target, phase))
        .map(|target| figure(target, phase))
        .collect::<Option<_>>()?;
    figures_level(report, &spreads, figure)
}

/// The phases to draw, and those left out with their level span.
fn split_level(
    report: &Report<'_>,
    level: impl Fn(usize) -> Option<LevelSpan>,
) -> (Vec<usize>, Vec<(usize, LevelSpan)>) {
    let mut drawn = Vec::new();
    let mut left_out = Vec::new();
    for phase in 0..report.phases.len() {
        match level(phase) {
            Some(span) => left_out.push((phase, span)),
            None => drawn.push(phase),
        }
    }
    (drawn, left_out)
}

/// "memory, 0.41–0.45 cores" for each phase left out, with why it is level.
fn named(
    report: &Report<'_>,
    left_out: &[(usize, LevelSpan)],
    show: impl Fn(f64) -> String,
    unit: &str,
) -> Vec<(String, LevelBasis)> {
    left_out
        .iter()
        .map(|&(phase, span)| {
            (format!("{}, {} {unit}", report.phases[phase].name, span_text(span.low, span.high, &show)), span.basis)
        })
        .collect()
}

fn panels(report: &Report<'_>, phases: &[usize], bar: impl Fn(usize, usize) -> Option<Bar>) -> Vec<BarPanel> {
    phases
        .iter()
        .map(|&phase| (phase, &report.phases[phase]))
        .map(|(phase, info)| BarPanel {
            title: format!("{}: {}", info.name, info.example.load_description),
            rows: report
                .phase_targets(phase)
                .into_iter()
                .map(|target| (target, &report.targets[target]))
                .map(|(target, view)| BarRow {
                    label: view.name().to_owned(),
                    colour: report.colour(target),
                    bar: bar(target, phase),
                    missing: report.missing_reason(target),
                })
                .collect(),
        })
        .collect()
}

/// The CPU chart's takeaway: who used the most and the fewest cores in any one phase, e.g. "Most CPU: async-2,
/// 1.97 cores in cpu; fewest: async-1, 0.41 cores in sync-google."
fn cpu_takeaway(report: &Report<'_>) -> Option<String> {
    extremes(report, |target, phase| report.cpu_cores(target, phase)).map(|((a, pa, most), (b, pb, fewest))| {
        format!(
            "Most CPU: {}, {} cores in {}; fewest: {}, {} cores in {}.",
            report.target_name(a),
            format::significant(most, 3),
            report.phases[pa].name,
            report.target_name(b),
            format::significant(fewest, 3),
            report.phases[pb].name
        )
    })
}

/// The memory chart's takeaway: the largest and the smallest peak RSS of any phase.
fn memory_takeaway(report: &Report<'_>) -> Option<String> {
    extremes(report, |target, phase| report.rss_peak(target, phase)).map(|((a, pa, most), (b, pb, fewest))| {
        format!(
            "Largest peak RSS: {}, {} MiB in {}; smallest: {}, {} MiB in {}.",
            report.target_name(a),
            format::mib(most),
            report.phases[pa].name,
            report.target_name(b),
            format::mib(fewest),
            report.phases[pb].name
        )
    })
}

type Extreme = (usize, usize, f64);

/// The (target, phase, median) with the highest and the lowest figure.
fn extremes(report: &Report<'_>, figure: impl Fn(usize, usize) -> Option<Spread>) -> Option<(Extreme, Extreme)> {
    let all: Vec<Extreme> = (0..report.targets.len())
        .flat_map(|target| (0..report.phases.len()).map(move |phase| (target, phase)))
        .filter_map(|(target, phase)| Some((target, phase, figure(target, phase)?.median)))
        .collect();
    let most = *all.iter().max_by(|a, b| a.2.total_cmp(&b.2))?;
    let fewest = *all.iter().min_by(|a, b| a.2.total_cmp(&b.2))?;
    Some((most, fewest))
}
