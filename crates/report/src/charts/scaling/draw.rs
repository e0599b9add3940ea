//! Drawing the scaling panels: one log-x panel per endpoint or phase, a line per target or family with min-max
//! whiskers, and the ideal dashed on top.

use analysis::format;
use plotters::prelude::*;

use super::{Point, ScalingPanel};
use crate::charts::{font, Canvas, ChartError, CAPTION_SIZE, LABEL_SIZE};
use crate::page::Report;
use crate::palette;

pub(super) fn draw_panels(
    root: &Canvas<'_>,
    report: &Report<'_>,
    panels: &[ScalingPanel],
    x_desc: &str,
) -> Result<(), ChartError> {
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, report, panel, x_desc)?;
    }
    Ok(())
}

fn draw_panel(area: &Canvas<'_>, report: &Report<'_>, panel: &ScalingPanel, x_desc: &str) -> Result<(), ChartError> {
    let xs = panel
        .lines
        .iter()
        .flat_map(|line| line.points.iter().map(|p| p.x))
        .chain(panel.ideal.iter().flat_map(|ideal| ideal.points.iter().map(|p| p.0)));
    let (x_low, x_high) = xs.fold((f64::INFINITY, 0.0f64), |(low, high), x| (low.min(x), high.max(x)));
    let y_high = panel
        .lines
        .iter()
        .flat_map(|line| line.points.iter().map(|p| p.value.max.max(p.value.median)))
        .chain(panel.ideal.iter().flat_map(|ideal| ideal.points.iter().map(|p| p.1)))
        .fold(0.0, f64::max);
    let y_high = if y_high > 0.0 { y_high * 1.15 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, font(CAPTION_SIZE))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((x_low / 1.3..x_high * 1.3).log_scale().base(2.0), 0.0..y_high)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("successful req/s")
        .x_labels(12)
        .x_label_formatter(&|x| format::count_axis(*x))
        .y_label_formatter(&|y| format::axis(*y))
        .light_line_style(RGBColor(0xf4, 0xf4, 0xf4))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(LABEL_SIZE))
        .draw()?;
    for line in &panel.lines {
        let mut points: Vec<&Point> = line.points.iter().collect();
        points.sort_by(|a, b| a.x.total_cmp(&b.x));
        chart
            .draw_series(LineSeries::new(points.iter().map(|p| (p.x, p.value.median)), line.colour.stroke_width(2)))?;
        for point in points {
            let colour = report.colour(point.target);
            if point.value.n > 1 && point.value.max > point.value.min {
                let style = colour.stroke_width(1);
                let area = chart.plotting_area();
                area.draw(&PathElement::new(vec![(point.x, point.value.min), (point.x, point.value.max)], style))?;
                for end in [point.value.min, point.value.max] {
                    area.draw(&(EmptyElement::at((point.x, end)) + PathElement::new(vec![(-5, 0), (5, 0)], style)))?;
                }
            }
            chart.draw_series([Circle::new((point.x, point.value.median), 4, colour.filled())])?;
        }
    }
    // Drawn last so it stays visible where the measurements sit on it.
    if let Some(ideal) = &panel.ideal {
        let style = palette::ANNOTATION.stroke_width(2);
        chart.draw_series(DashedLineSeries::new(ideal.points.iter().copied(), 8, 5, style))?;
    }
    Ok(())
}
