//! What each target cost: CPU cores used and peak memory (RSS, with PSS inside it), one panel per phase, from the
//! driver's /proc sampling of the target's whole process tree.

use super::{bar_panels_height, draw_bar_panels, render_svg, target_legend, Bar, BarPanel, BarRow, Figure};
use crate::data::Report;
use crate::format;

pub fn cpu_figure(report: &Report<'_>) -> Figure {
    let panels = panels(report, |target, phase| {
        report.cpu_cores(target, phase).map(|value| Bar {
            value,
            inner: None,
            text: format!("{} cores", format::significant(value.median, 3)),
        })
    });
    Figure {
        id: "chart-cpu".to_owned(),
        title: "CPU cores used".to_owned(),
        caption: "CPU time (user + system) of the target's whole process tree per second of the measured period: \
                  1.0 is one core fully busy. A model that cannot use more than one core stays at or below 1.0."
            .to_owned(),
        legend: target_legend(report, (0..report.targets.len()).map(|target| (target, true))),
        svg: render_svg(bar_panels_height(&panels), |root| {
            draw_bar_panels(root, &panels, "CPU cores used (average)", &format::axis)
        }),
    }
}

pub fn memory_figure(report: &Report<'_>) -> Figure {
    let panels = panels(report, |target, phase| {
        let rss = report.rss_peak(target, phase)?;
        let pss = report.pss_peak(target, phase).map(|spread| spread.median);
        let text = match pss {
            Some(pss) => format!("RSS {} · PSS {} MiB", format::mib(rss.median), format::mib(pss)),
            None => format!("RSS {} MiB (no PSS)", format::mib(rss.median)),
        };
        Some(Bar { value: rss, inner: pss, text })
    });
    Figure {
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
    }
}

fn panels(report: &Report<'_>, bar: impl Fn(usize, usize) -> Option<Bar>) -> Vec<BarPanel> {
    report
        .phases
        .iter()
        .enumerate()
        .map(|(phase, info)| BarPanel {
            title: format!("{}: {}", info.name, info.example.load_description),
            rows: report
                .phase_targets(phase)
                .into_iter()
                .map(|target| (target, &report.targets[target]))
                .map(|(target, view)| BarRow {
                    label: view.name().to_owned(),
                    colour: view.colour,
                    bar: bar(target, phase),
                    missing: report.missing_reason(target),
                })
                .collect(),
        })
        .collect()
}

/// The CPU chart's takeaway: who used the most and the fewest cores in any one phase, e.g. "Most CPU: async-2,
/// 1.97 cores in cpu; fewest: async-1, 0.41 cores in sync-google."
pub fn cpu_takeaway(report: &Report<'_>) -> Option<String> {
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
pub fn memory_takeaway(report: &Report<'_>) -> Option<String> {
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
fn extremes(
    report: &Report<'_>,
    figure: impl Fn(usize, usize) -> Option<crate::data::Spread>,
) -> Option<(Extreme, Extreme)> {
    let all: Vec<Extreme> = (0..report.targets.len())
        .flat_map(|target| (0..report.phases.len()).map(move |phase| (target, phase)))
        .filter_map(|(target, phase)| Some((target, phase, figure(target, phase)?.median)))
        .collect();
    let most = *all.iter().max_by(|a, b| a.2.total_cmp(&b.2))?;
    let fewest = *all.iter().min_by(|a, b| a.2.total_cmp(&b.2))?;
    Some((most, fewest))
}
