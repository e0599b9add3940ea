//! [`Report`]: what every renderer draws from: the run as the analysis reads it ([`RunView`], reached through
//! `Deref`), the [`Findings`] decided once for all outputs, each target's colour and the options.

use std::ops::Deref;

use analysis::{Findings, RunView};
use plotters::style::RGBColor;
use results::{Family, RunResults};

use crate::palette;
use crate::ReportOptions;

pub struct Report<'a> {
    view: RunView<'a>,
    pub options: &'a ReportOptions,
    pub findings: Findings,
    /// Indexed like the targets.
    colours: Vec<RGBColor>,
}

impl<'a> Report<'a> {
    pub fn new(results: &'a RunResults, options: &'a ReportOptions) -> Report<'a> {
        let view = RunView::new(results);
        let findings = Findings::of(&view);
        let colours = colour_targets(&view);
        Report { view, options, findings, colours }
    }

    pub fn colour(&self, target: usize) -> RGBColor {
        self.colours[target]
    }

    pub fn view(&self) -> &RunView<'a> {
        &self.view
    }
}

impl<'a> Deref for Report<'a> {
    type Target = RunView<'a>;

    fn deref(&self) -> &RunView<'a> {
        &self.view
    }
}

/// Each family's targets take that family's colours in suite order.
fn colour_targets(view: &RunView<'_>) -> Vec<RGBColor> {
    let (mut rust, mut python, mut external) = (0, 0, 0);
    view.targets
        .iter()
        .map(|target| {
            let counter = match target.result.family {
                Family::Rust => &mut rust,
                Family::Python => &mut python,
                Family::External => &mut external,
            };
            let colour = palette::target_colour(target.result.family, *counter);
            *counter += 1;
            colour
        })
        .collect()
}
