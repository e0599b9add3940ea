//! The report's charts, drawn with plotters into SVG strings that the HTML page inlines. One file per chart kind;
//! this module holds what they share: the [`Figure`] they return, the SVG canvas, fonts, and horizontal bar panels.

pub mod capacity;
pub mod latency;
pub mod resources;
pub mod scaling;
pub mod timeline;
pub mod trend;
pub mod workers;

use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::page::Report;
use crate::palette;
use analysis::data::Spread;
use analysis::verdict::LevelBasis;

/// Width of every chart in SVG user units; the page scales it to the column (CSS width 100%).
pub const WIDTH: u32 = 760;

/// The drawing surface charts draw on.
pub type Canvas<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// One chart ready for the page.
pub struct Figure {
    /// Anchor id, unique in the page (`chart-...`).
    pub id: String,
    pub title: String,
    /// What the chart shows and how to read it.
    pub caption: String,
    pub legend: Vec<LegendEntry>,
    /// The SVG, or why it could not be drawn.
    pub svg: Result<String, String>,
}

/// A chart drawn only where it shows a difference: the figure of the panels whose targets differ (None when none
/// does), its takeaway, and the one sentence that stands in for the panels left out because their targets are level
/// (by [`analysis::verdict::figures_level`], the rule the verdict and the phases use).
pub struct Gated {
    pub figure: Option<Figure>,
    pub takeaway: Option<String>,
    pub level: Option<String>,
}

/// "CPU cores used, not drawn where the targets are level: memory, 0.41–0.45 cores (their ranges over 3
/// repetitions overlap); ..." for the panels left out, each given as its figures in words and why they are level;
/// None when every panel was drawn.
pub fn level_sentence(what: &str, left_out: &[(String, LevelBasis)]) -> Option<String> {
    if left_out.is_empty() {
        return None;
    }
    let parts: Vec<String> = left_out.iter().map(|(figures, basis)| format!("{figures} ({})", basis.why())).collect();
    Some(format!("{what}, not drawn where the targets are level: {}.", parts.join("; ")))
}

/// "0.41–0.45 cores", or "0.41 cores" when both ends read the same, each end shown by `show`.
pub fn span_text(low: f64, high: f64, show: impl Fn(f64) -> String) -> String {
    let (low, high) = (show(low), show(high));
    if low == high {
        low
    } else {
        format!("{low}–{high}")
    }
}

/// One entry of a figure's legend (drawn in HTML above the chart, so it reflows on narrow screens).
pub struct LegendEntry {
    pub label: String,
    /// CSS colour, `#rrggbb`.
    pub colour: String,
    pub mark: LegendMark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegendMark {
    Swatch,
    Line,
    Dashed,
}

/// A drawing failure, as text: plotters' errors carry the backend's error type, which the page only prints.
#[derive(Debug)]
pub struct ChartError(pub String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(error: DrawingAreaErrorKind<E>) -> ChartError {
        ChartError(error.to_string())
    }
}

/// Draws on a fresh white canvas of `WIDTH` x `height` and returns the SVG text.
pub fn render_svg(height: u32, draw: impl FnOnce(&Canvas<'_>) -> Result<(), ChartError>) -> Result<String, String> {
    let mut svg = String::new();
    let outcome = (|| {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok::<(), ChartError>(())
    })();
    outcome.map(|()| svg).map_err(|ChartError(reason)| reason)
}

/// Text style for captions, axis descriptions and labels.
pub fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&RGBColor(0x22, 0x22, 0x22))
}

/// Grey italic text for "no data" marks.
pub fn missing_font() -> TextStyle<'static> {
    ("sans-serif", 14).into_font().style(FontStyle::Italic).color(&palette::ANNOTATION)
}

pub const CAPTION_SIZE: u32 = 17;
pub const LABEL_SIZE: u32 = 14;

/// Legend entries for the given targets, in target order; targets without data say so.
pub fn target_legend(report: &Report<'_>, targets: impl IntoIterator<Item = (usize, bool)>) -> Vec<LegendEntry> {
    targets
        .into_iter()
        .map(|(target, has_data)| {
            let view = &report.targets[target];
            let label = if has_data {
                view.name().to_owned()
            } else {
                format!("{} ({})", view.name(), report.missing_reason(target))
            };
            LegendEntry { label, colour: palette::hex(report.colour(target)), mark: LegendMark::Swatch }
        })
        .collect()
}

/// A grey legend entry for an ideal or reference line.
pub fn reference_legend(label: impl Into<String>) -> LegendEntry {
    LegendEntry { label: label.into(), colour: palette::hex(palette::ANNOTATION), mark: LegendMark::Dashed }
}

/// One row of a horizontal bar panel.
pub struct BarRow {
    pub label: String,
    pub colour: RGBColor,
    /// None draws the `missing` text instead of a bar: missing data is never a zero bar.
    pub bar: Option<Bar>,
    pub missing: String,
}

/// A bar: the median with its repetition range, an optional inner bar (PSS inside RSS), and its label.
pub struct Bar {
    pub value: Spread,
    pub inner: Option<f64>,
    pub text: String,
}

/// One panel (small multiple) of a bar chart, e.g. one phase.
pub struct BarPanel {
    pub title: String,
    pub rows: Vec<BarRow>,
}

const BAR_ROW_HEIGHT: u32 = 28;
const BAR_PANEL_CHROME: u32 = 96;

/// Height a stack of bar panels needs.
pub fn bar_panels_height(panels: &[BarPanel]) -> u32 {
    panels.iter().map(|panel| BAR_PANEL_CHROME + BAR_ROW_HEIGHT * panel.rows.len() as u32).sum::<u32>().max(60)
}

/// Draws panels stacked vertically, each with its own x scale from 0, one bar per row, names on the left.
pub fn draw_bar_panels(
    root: &Canvas<'_>,
    panels: &[BarPanel],
    x_desc: &str,
    x_format: &dyn Fn(f64) -> String,
) -> Result<(), ChartError> {
    let label_width = label_area_width(panels.iter().flat_map(|panel| panel.rows.iter().map(|row| row.label.as_str())));
    let mut rest = root.clone();
    for panel in panels {
        let height = BAR_PANEL_CHROME + BAR_ROW_HEIGHT * panel.rows.len() as u32;
        let (area, below) = rest.split_vertically(height);
        draw_bar_panel(&area, panel, label_width, x_desc, x_format)?;
        rest = below;
    }
    Ok(())
}

fn draw_bar_panel(
    area: &Canvas<'_>,
    panel: &BarPanel,
    label_width: u32,
    x_desc: &str,
    x_format: &dyn Fn(f64) -> String,
) -> Result<(), ChartError> {
    // At least two slots: plotters draws a one-slot segmented axis with negative heights; a lone row leaves one empty.
    let rows = panel.rows.len().max(2) as i32;
    let x_max = panel
        .rows
        .iter()
        .filter_map(|row| row.bar.as_ref())
        .map(|bar| bar.value.max.max(bar.value.median))
        .fold(0.0, f64::max);
    // Room on the right for the value labels.
    let x_max = if x_max > 0.0 { x_max * 1.3 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, font(CAPTION_SIZE))
        .margin(8)
        .margin_right(20)
        .x_label_area_size(44)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0.0..x_max, (0..rows - 1).into_segmented())?;
    let labels: Vec<String> = panel.rows.iter().map(|row| row.label.clone()).collect();
    draw_row_mesh(&mut chart, &labels, rows, Some(6), x_format, x_desc)?;
    for (index, row) in panel.rows.iter().enumerate() {
        let slot = rows - 1 - index as i32;
        match &row.bar {
            Some(bar) => draw_bar(chart.plotting_area(), slot, row.colour, bar)?,
            None => {
                let note = EmptyElement::at((0.0, SegmentValue::CenterOf(slot)))
                    + Text::new(row.missing.clone(), (6, 0), missing_font().pos(Pos::new(HPos::Left, VPos::Center)));
                chart.plotting_area().draw(&note)?;
            }
        }
    }
    Ok(())
}

/// The axes of a chart with one row per segment on y, labelled with `labels` from the top, and values on x
/// (`x_labels` ticks, or plotters' default number).
pub(super) fn draw_row_mesh(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordi32>>>,
    labels: &[String],
    rows: i32,
    x_labels: Option<usize>,
    x_format: &dyn Fn(f64) -> String,
    x_desc: &str,
) -> Result<(), ChartError> {
    let label_of = |value: &SegmentValue<i32>| match value {
        SegmentValue::CenterOf(slot) => labels.get((rows - 1 - slot) as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let x_formatter = |value: &f64| x_format(*value);
    let mut mesh = chart.configure_mesh();
    mesh.disable_y_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .y_labels(rows as usize)
        .y_label_formatter(&label_of)
        .x_label_formatter(&x_formatter)
        .x_desc(x_desc)
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(LABEL_SIZE));
    if let Some(count) = x_labels {
        mesh.x_labels(count);
    }
    mesh.draw()?;
    Ok(())
}

/// The plotting area of a bar panel: value on x, one segment per row on y.
type BarArea<'a> = DrawingArea<SVGBackend<'a>, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordi32>>>;

fn draw_bar(area: &BarArea<'_>, slot: i32, colour: RGBColor, bar: &Bar) -> Result<(), ChartError> {
    let top = SegmentValue::Exact(slot + 1);
    let bottom = SegmentValue::Exact(slot);
    let centre = SegmentValue::CenterOf(slot);
    let fill = if bar.inner.is_some() { palette::lighten(colour, 0.6).filled() } else { colour.filled() };
    let mut outer = Rectangle::new([(0.0, top), (bar.value.median, bottom)], fill);
    outer.set_margin(5, 5, 0, 0);
    area.draw(&outer)?;
    if let Some(inner) = bar.inner {
        let mut inner =
            Rectangle::new([(0.0, SegmentValue::Exact(slot + 1)), (inner, SegmentValue::Exact(slot))], colour.filled());
        inner.set_margin(10, 10, 0, 0);
        area.draw(&inner)?;
    }
    if bar.value.n > 1 && bar.value.max > bar.value.min {
        let style = BLACK.stroke_width(1);
        area.draw(&PathElement::new(vec![(bar.value.min, centre.clone()), (bar.value.max, centre.clone())], style))?;
        for end in [bar.value.min, bar.value.max] {
            area.draw(&(EmptyElement::at((end, centre.clone())) + PathElement::new(vec![(0, -6), (0, 6)], style)))?;
        }
    }
    let label_x = bar.value.max.max(bar.value.median);
    let label = EmptyElement::at((label_x, centre))
        + Text::new(bar.text.clone(), (6, 0), font(LABEL_SIZE).pos(Pos::new(HPos::Left, VPos::Center)));
    area.draw(&label)?;
    Ok(())
}

/// Bounds of a log axis for values in [low, high]: the lower bound a power of ten (plotters labels a log axis
/// from its first power of ten up), the upper with headroom; a default decade range when there are no values.
pub fn log_bounds(low: f64, high: f64) -> (f64, f64) {
    if high.is_nan() || high <= 0.0 || !low.is_finite() || low <= 0.0 {
        return (0.01, 10.0);
    }
    let floor = 10f64.powf(low.max(0.001).log10().floor());
    // Just below the power of ten, so rounding in log10 cannot push plotters' first key point a decade up.
    (floor * 0.999, (high * 1.5).max(floor * 10.0))
}

/// Tick values for a log axis over [low, high]: 1-2-5 steps within two and a half decades, powers of ten beyond.
/// Given to plotters explicitly because its own log key points repeat the top power and crowd short ranges.
pub fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    if !(low > 0.0 && high > low && high.is_finite()) {
        return Vec::new();
    }
    let mantissas: &[f64] = if (high / low).log10() <= 2.5 { &[1.0, 2.0, 5.0] } else { &[1.0] };
    let first = low.log10().floor() as i32;
    let last = high.log10().ceil() as i32;
    let mut ticks = Vec::new();
    for exponent in first..=last {
        for mantissa in mantissas {
            let tick = mantissa * 10f64.powi(exponent);
            if tick >= low * 0.999_999 && tick <= high {
                ticks.push(tick);
            }
        }
    }
    ticks
}

/// The anchor of a phase's section and charts: its position (unique) and its name (readable).
pub fn phase_anchor(phase: usize, name: &str) -> String {
    format!("p{}-{}", phase + 1, slug(name))
}

/// An id-safe form of a name: lowercase ASCII letters, digits and dashes.
pub fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_owned()
}

/// Pixels the longest label needs at the label font size (plotters estimates about 0.5 em a character).
pub fn label_area_width<'a>(labels: impl Iterator<Item = &'a str>) -> u32 {
    let longest = labels.map(|label| label.chars().count()).max().unwrap_or(4) as u32;
    (longest * 8 + 16).clamp(60, 280)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canvas_renders_to_an_svg_string() {
        let svg = render_svg(100, |root| {
            root.draw(&Text::new("a < b", (10, 10), font(12)))?;
            Ok(())
        })
        .expect("draws");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("a &lt; b"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn log_ticks_step_1_2_5_on_short_ranges_and_by_decades_on_long_ones() {
        assert_eq!(log_ticks(0.0999, 5.25), vec![0.1, 0.2, 0.5, 1.0, 2.0, 5.0]);
        assert_eq!(log_ticks(0.0999, 1500.0), vec![0.1, 1.0, 10.0, 100.0, 1000.0]);
        assert!(log_ticks(0.0, 1.0).is_empty());
    }

    #[test]
    fn log_bounds_start_at_a_power_of_ten() {
        let (low, high) = log_bounds(0.13, 3.5);
        assert!((low - 0.0999).abs() < 1e-9 && (high - 5.25).abs() < 1e-9, "{low} {high}");
        let (low, high) = log_bounds(20.0, 21.0);
        assert!((low - 9.99).abs() < 1e-9 && (high - 100.0).abs() < 1e-9, "{low} {high}");
        assert_eq!(log_bounds(f64::INFINITY, 0.0), (0.01, 10.0));
    }

    #[test]
    fn missing_rows_draw_their_note_not_a_bar() {
        let panel = BarPanel {
            title: "phase".into(),
            rows: vec![
                BarRow {
                    label: "present".into(),
                    colour: RGBColor(1, 2, 3),
                    bar: Some(Bar {
                        value: Spread { median: 5.0, min: 4.0, max: 6.0, n: 2 },
                        inner: None,
                        text: "5".into(),
                    }),
                    missing: String::new(),
                },
                BarRow {
                    label: "absent".into(),
                    colour: RGBColor(4, 5, 6),
                    bar: None,
                    missing: "no data: target failed".into(),
                },
            ],
        };
        let panels = [panel];
        let svg =
            render_svg(bar_panels_height(&panels), |root| draw_bar_panels(root, &panels, "req/s", &|v| format!("{v}")))
                .expect("draws");
        assert!(svg.contains("no data: target failed"));
        assert!(svg.contains("#010203"), "the present bar is filled in its colour");
        assert!(!svg.contains("#040506"), "the absent row has no bar");
    }
}
