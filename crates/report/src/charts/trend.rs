//! The trend of CI runs from results/history.jsonl: one small panel per headline figure, runs in file order.

use analysis::format;
use plotters::prelude::*;

use super::{font, render_svg, Canvas, ChartError, Figure, LegendEntry, LegendMark, CAPTION_SIZE, LABEL_SIZE};
use crate::history::{short_label, History};
use crate::palette;

const PANEL_HEIGHT: u32 = 230;
/// More figures than this are listed but not drawn: the page stays readable.
pub const MAX_FIGURES: usize = 12;

/// The trend of `names` (figures of `history`), each labelled in words.
pub fn figure(history: &History, names: &[String]) -> Option<Figure> {
    if history.entries.is_empty() || names.is_empty() {
        return None;
    }
    let drawn: Vec<&str> = names.iter().take(MAX_FIGURES).map(String::as_str).collect();
    let legend = drawn
        .iter()
        .enumerate()
        .map(|(index, name)| LegendEntry {
            label: crate::figure_words::words(name),
            colour: palette::hex(palette::neutral_colour(index)),
            mark: LegendMark::Line,
        })
        .collect();
    let left_out = match names.len().saturating_sub(MAX_FIGURES) {
        0 => String::new(),
        n => format!(" {n} more figures of this run are in the file but not drawn."),
    };
    Some(Figure {
        id: "chart-trend".to_owned(),
        title: "Trend over CI runs".to_owned(),
        caption: format!(
            "Headline figures of the last {} CI runs from {}, oldest on the left; each panel has its own scale. \
             A gap is a run that did not record that figure.{left_out}",
            history.entries.len(),
            history.path
        ),
        legend,
        svg: render_svg(PANEL_HEIGHT * drawn.len() as u32, |root| draw(root, history, &drawn)),
    })
}

fn draw(root: &Canvas<'_>, history: &History, names: &[&str]) -> Result<(), ChartError> {
    let areas = root.split_evenly((names.len().max(1), 1));
    let runs = history.entries.len();
    let run_label = |x: &f64| -> String {
        let index = x.round();
        if (x - index).abs() > 1e-6 || index < 0.0 {
            return String::new();
        }
        history.entries.get(index as usize).map(short_label).unwrap_or_default()
    };
    for (index, (area, name)) in areas.iter().zip(names).enumerate() {
        let points: Vec<(f64, f64)> = history
            .entries
            .iter()
            .enumerate()
            .filter_map(|(run, entry)| entry.figures.get(*name).map(|&value| (run as f64, value)))
            .filter(|(_, value)| value.is_finite())
            .collect();
        let (low, high) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| (l.min(p.1), h.max(p.1)));
        let (low, high) = if low.is_finite() && high > low {
            let pad = (high - low) * 0.15;
            (low - pad, high + pad)
        } else if low.is_finite() {
            (low - low.abs().max(1.0) * 0.1, low + low.abs().max(1.0) * 0.1)
        } else {
            (0.0, 1.0)
        };
        let colour = palette::neutral_colour(index);
        let mut chart = ChartBuilder::on(area)
            .caption(crate::figure_words::words(name), font(CAPTION_SIZE))
            .margin(8)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..(runs as f64 - 0.5), low..high)?;
        chart
            .configure_mesh()
            .x_labels(runs.min(8))
            .x_label_formatter(&run_label)
            .y_label_formatter(&|y| format::significant(*y, 3))
            .x_desc("CI run (date)")
            .light_line_style(RGBColor(0xf4, 0xf4, 0xf4))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()?;
        chart.draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))?;
        chart.draw_series(points.iter().map(|&point| Circle::new(point, 3, colour.filled())))?;
    }
    Ok(())
}

/// The chart's takeaway: the figure that moved most between the first and the last run that recorded it.
pub fn takeaway(history: &History, names: &[String]) -> Option<String> {
    let (name, change) = names
        .iter()
        .filter_map(|name| {
            let mut values = history.entries.iter().filter_map(|entry| entry.figures.get(name)).copied();
            let first = values.next()?;
            let last = values.last()?;
            (first != 0.0 && first.is_finite() && last.is_finite()).then(|| (name, last / first - 1.0))
        })
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    Some(format!(
        "Moved most from the first run to the last: {}, {}{}.",
        crate::figure_words::words(name),
        if change >= 0.0 { "+" } else { "−" },
        format::percent(change.abs())
    ))
}
