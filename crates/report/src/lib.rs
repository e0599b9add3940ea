//! Renders benchmark results as one self-contained HTML page and a markdown summary.
