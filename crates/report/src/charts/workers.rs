//! Requests served per worker process: one 100 % bar per target and phase, split by worker, so an uneven accept
//! distribution (one worker taking most connections) shows at a glance. Also the rows the page's table lists.
//! Counts come from the prefork master's `--stats`, or for other targets from the `x-worker-pid` header.

use analysis::format;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use results::{WorkerCountSource, WorkerLoad};

use super::{font, label_area_width, render_svg, target_legend, Canvas, ChartError, Figure, CAPTION_SIZE};
use crate::page::Report;

const ROW_HEIGHT: u32 = 34;
const CHROME: u32 = 100;

/// One target x phase with per-worker request counts (first repetition).
pub struct WorkerRow {
    pub target: usize,
    pub phase: usize,
    /// Requests per worker, in worker order (with `--stats`: per worker position, respawns added up).
    pub load: WorkerLoad,
}

impl WorkerRow {
    /// "master --stats" or "x-worker-pid": where the counts come from.
    pub fn source_text(&self) -> &'static str {
        match self.load.source {
            WorkerCountSource::MasterStats => "master --stats",
            WorkerCountSource::WorkerPidHeader => "x-worker-pid",
        }
    }
}

/// Every target x phase whose first repetition has per-worker counts: from the master's stats, or from the
/// `x-worker-pid` header when it names more than one worker (a single-process server has nothing to share).
pub fn rows(report: &Report<'_>) -> Vec<WorkerRow> {
    let mut rows = Vec::new();
    for target in 0..report.targets.len() {
        for phase in 0..report.phases.len() {
            let Some(measurement) = report.measurements(target, phase).next() else { continue };
            let Some(load) = measurement.worker_load(report) else { continue };
            if load.source == WorkerCountSource::MasterStats || load.workers.len() > 1 {
                rows.push(WorkerRow { target, phase, load });
            }
        }
    }
    rows
}

/// A row's workers shared evenly when the fewest served at least this share of the mean: the bar a balanced prefork
/// accept is held to. Even rows draw no bar (five equal segments show nothing); a sentence and the table give them.
pub const EVEN_SHARE_OF_MEAN: f64 = 0.8;

impl WorkerRow {
    /// Every worker served at least [`EVEN_SHARE_OF_MEAN`] of the mean.
    pub fn is_even(&self) -> bool {
        let workers = self.load.workers.len();
        workers > 0 && self.load.fewest() as f64 >= EVEN_SHARE_OF_MEAN * self.load.total() as f64 / workers as f64
    }
}

/// "Not drawn where every worker served at least 0.8× the mean: prefork-async-2 · cpu (2 workers, 601–612); ..."
/// for the even rows; None when every row is uneven.
pub fn even_sentence(report: &Report<'_>, rows: &[WorkerRow]) -> Option<String> {
    let even: Vec<String> = rows
        .iter()
        .filter(|row| row.is_even())
        .map(|row| {
            let (fewest, most) = (format::count(row.load.fewest()), format::count(row.load.most()));
            format!("{} ({} workers, {fewest}–{most} requests)", row_label(report, row), row.load.workers.len())
        })
        .collect();
    (!even.is_empty()).then(|| {
        format!("Not drawn where every worker served at least {EVEN_SHARE_OF_MEAN}× the mean: {}.", even.join("; "))
    })
}

/// The bars of the rows whose workers did not share evenly; None when there are none.
pub fn figure(report: &Report<'_>, rows: &[WorkerRow]) -> Option<Figure> {
    let uneven: Vec<&WorkerRow> = rows.iter().filter(|row| !row.is_even()).collect();
    if uneven.is_empty() {
        return None;
    }
    let rows = uneven;
    let mut targets: Vec<usize> = rows.iter().map(|row| row.target).collect();
    targets.dedup();
    Some(Figure {
        id: "chart-workers".to_owned(),
        title: "Requests per worker process".to_owned(),
        caption: "Each bar is all the requests one target served in one phase (first repetition), split by worker \
                  process (alternating shades, numbers inside), as the prefork master's --stats or, for the other \
                  targets, the x-worker-pid header of each response counted them. Even segments mean the workers \
                  shared the connections; the table below gives the fewest/most ratio and a worker left idle."
            .to_owned(),
        legend: target_legend(report, targets.into_iter().map(|target| (target, true))),
        svg: render_svg(CHROME + ROW_HEIGHT * rows.len() as u32, |root| draw(root, report, &rows)),
    })
}

fn row_label(report: &Report<'_>, row: &WorkerRow) -> String {
    format!("{} · {}", report.target_name(row.target), report.phases[row.phase].name)
}

fn draw(root: &Canvas<'_>, report: &Report<'_>, rows: &[&WorkerRow]) -> Result<(), ChartError> {
    let labels: Vec<String> = rows.iter().map(|row| row_label(report, row)).collect();
    // At least two slots: plotters draws a one-slot segmented axis with negative heights; a lone row leaves one empty.
    let slots = rows.len().max(2) as i32;
    let mut chart = ChartBuilder::on(root)
        .caption("Share of requests per worker process", font(CAPTION_SIZE))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(label_area_width(labels.iter().map(String::as_str)))
        .build_cartesian_2d(0.0..100.0, (0..slots - 1).into_segmented())?;
    let x_desc = "share of the target's requests in the phase (%)";
    super::draw_row_mesh(&mut chart, &labels, slots, None, &|x| format!("{x:.0}%"), x_desc)?;
    let area = chart.plotting_area();
    for (index, row) in rows.iter().enumerate() {
        let slot = slots - 1 - index as i32;
        let colour = report.colour(row.target);
        let total = row.load.total().max(1) as f64;
        let mut start = 0.0;
        // Shades alternate over the segments drawn, so neighbours differ even when an idle worker has none.
        let drawn = row.load.workers.iter().map(|worker| worker.requests).filter(|&requests| requests > 0);
        for (worker, requests) in drawn.enumerate() {
            let share = requests as f64 / total * 100.0;
            let fill = if worker % 2 == 0 { colour.filled() } else { crate::palette::lighten(colour, 0.55).filled() };
            let mut segment = Rectangle::new(
                [(start, SegmentValue::Exact(slot + 1)), (start + share, SegmentValue::Exact(slot))],
                fill,
            );
            // A one-pixel white gap between segments, except on slivers it would invert.
            segment.set_margin(5, 5, 0, u32::from(share >= 1.0));
            area.draw(&segment)?;
            if share >= 8.0 {
                let text_colour = if worker % 2 == 0 { WHITE } else { RGBColor(0x11, 0x11, 0x11) };
                let style =
                    ("sans-serif", 12).into_font().color(&text_colour).pos(Pos::new(HPos::Center, VPos::Center));
                let label =
                    Text::new(format::count(requests), (start + share / 2.0, SegmentValue::CenterOf(slot)), style);
                area.draw(&label)?;
            }
            start += share;
        }
    }
    Ok(())
}

/// The chart's takeaway: the least and the most even split over workers (fewest / most requests per worker).
pub fn takeaway(report: &Report<'_>, rows: &[WorkerRow]) -> Option<String> {
    let balanced: Vec<(&WorkerRow, f64)> = rows
        .iter()
        .filter(|row| row.load.workers.len() > 1)
        .filter_map(|row| Some((row, row.load.balance()?)))
        .collect();
    let least = balanced.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    let most = balanced.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let name = |row: &WorkerRow| format!("{} in {}", report.target_name(row.target), report.phases[row.phase].name);
    Some(format!(
        "Least even: {}, fewest / most = {}; most even: {}, {}.",
        name(least.0),
        analysis::format::significant(least.1, 2),
        name(most.0),
        analysis::format::significant(most.1, 2)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use results::WorkerShare;

    fn row(requests: &[u64]) -> WorkerRow {
        let workers = requests.iter().map(|&requests| WorkerShare { pid: None, requests }).collect();
        WorkerRow { target: 0, phase: 0, load: WorkerLoad { source: WorkerCountSource::MasterStats, workers } }
    }

    /// Even means every worker served at least 0.8x the mean: 70 of a mean of 85 is (68 is the bound), 60 of 80 is
    /// not (64), and an idle worker never is.
    #[test]
    fn a_row_is_even_when_its_fewest_worker_served_at_least_the_share_of_the_mean() {
        assert!(row(&[100, 100]).is_even());
        assert!(row(&[100, 70]).is_even());
        assert!(!row(&[100, 60]).is_even());
        assert!(!row(&[200, 0]).is_even());
        assert!(!row(&[]).is_even());
    }

    #[test]
    fn the_source_is_named() {
        let load = WorkerLoad {
            source: WorkerCountSource::WorkerPidHeader,
            workers: vec![WorkerShare { pid: Some(1), requests: 50 }, WorkerShare { pid: None, requests: 0 }],
        };
        let row = WorkerRow { target: 0, phase: 0, load };
        assert_eq!(row.source_text(), "x-worker-pid");
        assert_eq!(row.load.balance(), Some(0.0));
    }
}
