//! Throughput per target, one panel per phase: successful responses per second, median over repetitions with the
//! min-max range as whiskers. The first chart under the verdict.

use super::{bar_panels_height, draw_bar_panels, render_svg, target_legend, Bar, BarPanel, BarRow, Figure};
use crate::data::Report;
use crate::format;

pub fn figure(report: &Report<'_>) -> Figure {
    let panels: Vec<BarPanel> = (0..report.phases.len()).map(|phase| panel(report, phase)).collect();
    let svg = render_svg(bar_panels_height(&panels), |root| {
        draw_bar_panels(root, &panels, "successful responses per second (req/s)", &format::axis)
    });
    let repetitions = report.phases.iter().map(|phase| phase.repetitions).max().unwrap_or(1);
    let spread = if repetitions > 1 {
        format!(" Bars are the median of {repetitions} repetitions; whiskers span the slowest to the fastest.")
    } else {
        String::new()
    };
    Figure {
        id: "chart-throughput".to_owned(),
        title: "Throughput per model".to_owned(),
        caption: format!(
            "Successful responses per second in each phase (failed requests excluded), one panel per phase with \
             its own scale. In users and rate phases the load, not the server, sets the rate: compare their \
             latency instead.{spread}"
        ),
        legend: target_legend(report, (0..report.targets.len()).map(|target| (target, has_any(report, target)))),
        svg,
    }
}

fn panel(report: &Report<'_>, phase: usize) -> BarPanel {
    let info = &report.phases[phase];
    BarPanel {
        title: format!("{}: {} ({})", info.name, info.endpoints_text(), info.example.load_description),
        rows: report
            .phase_targets(phase)
            .into_iter()
            .map(|target| (target, &report.targets[target]))
            .map(|(target, view)| BarRow {
                label: view.name().to_owned(),
                colour: view.colour,
                bar: report.throughput(target, phase).map(|value| Bar {
                    value,
                    inner: None,
                    text: format!("{} req/s", format::rate(value.median)),
                }),
                missing: report.missing_reason(target),
            })
            .collect(),
    }
}

fn has_any(report: &Report<'_>, target: usize) -> bool {
    (0..report.phases.len()).any(|phase| report.has_data(target, phase))
}
