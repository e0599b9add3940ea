//! Small pieces of markup every section shares: a target's name with its colour swatch, a figure's in-flight note,
//! the anchor of a verdict's sentence.

use analysis::tables;
use maud::{html, Markup};

use crate::page::Report;
use crate::palette;

/// The anchor of a verdict's sentence in the evidence below.
pub fn verdict_anchor(index: usize) -> String {
    format!("verdict-{}", index + 1)
}

/// A target's name with its colour swatch and family, for table cells.
pub fn target_cell(report: &Report<'_>, target: usize) -> Markup {
    let view = &report.targets[target];
    let family = view.family().label();
    html! {
        span.swatch style=(format!("background:{}", palette::hex(report.colour(target)))) {}
        (view.name())
        span.family { (family) }
    }
}

/// The cell's in-flight requests on a second, smaller line.
pub fn in_flight_note(cell: &tables::Cell) -> Markup {
    html! {
        @if let Some(in_flight) = &cell.in_flight {
            br; small.in-flight { (in_flight) }
        }
    }
}
