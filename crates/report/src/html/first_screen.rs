//! The page's first screen: the answer table (which model for which kind of workload, by how much, and its name in
//! uvicorn/gunicorn terms) and the article's claims in one compact table, each cell linking to its evidence below.

use analysis::claims::Claim;
use maud::{html, Markup};
use results::Family;

use super::cells::{target_cell, verdict_anchor};
use super::claims::{claim_anchor, finding_class};
use crate::page::Report;

pub fn answer(report: &Report<'_>) -> Markup {
    let rows = &report.findings.answer;
    html! {
        section #answer {
            h2 { "Which model for which workload" }
            div.table-wrap {
                table.answer {
                    thead {
                        tr {
                            th { "Workload" } th.text { "Use" } th.text { "Lead over the runner-up (range)" }
                            th.text { "In Python terms" }
                        }
                    }
                    tbody {
                        @for row in rows {
                            tr {
                                td {
                                    @match row.verdict {
                                        Some(index) => { a href=(format!("#{}", verdict_anchor(index))) { (row.workload) } }
                                        None => { (row.workload) }
                                    }
                                }
                                @if row.models.is_empty() {
                                    td.text.missing colspan="3" data-label="Not measured" { (row.lead) }
                                } @else {
                                    td.text data-label="Use" {
                                        @if row.models.len() > 1 { "any of: " }
                                        @for (position, &target) in row.models.iter().enumerate() {
                                            @if position > 0 { ", " }
                                            span.model { (target_cell(report, target)) }
                                        }
                                    }
                                    td.text data-label="Lead" { (row.lead) }
                                    td.text data-label="In Python terms" {
                                        @for (position, python) in row.python.iter().enumerate() {
                                            @if position > 0 { " or " }
                                            code { (python) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn claims_table(claims: &[Claim]) -> Markup {
    if claims.is_empty() {
        return html! {};
    }
    html! {
        section #claims-table {
            h2 { "The article's claims, checked" }
            div.table-wrap {
                table.claims {
                    thead { tr { th { "#" } th.text { "The article's claim" } th { "Python" } th { "Rust" } } }
                    tbody {
                        @for claim in claims {
                            tr {
                                td { (claim.number) }
                                td.text { a href=(format!("#{}", claim_anchor(claim.number))) { (claim.short) } }
                                @for family in [Family::Python, Family::Rust] {
                                    @match claim.checks.iter().find(|check| check.family == family) {
                                        Some(check) => {
                                            td class=(format!("finding {}", finding_class(check.finding))) {
                                                a href=(format!("#{}", claim_anchor(claim.number))) {
                                                    (check.finding.short_label())
                                                }
                                            }
                                        }
                                        None => { td.missing { "–" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
