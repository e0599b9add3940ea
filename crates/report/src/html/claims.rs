//! The article's claims as a section of report.html, placed after the verdict: each claim's statement and its
//! checks, as the analysis found them.

use analysis::claims::{Claim, Finding, ARTICLE};
use maud::{html, Markup};

/// The anchor of a claim's evidence in report.html.
pub fn claim_anchor(number: u8) -> String {
    format!("claim-{number}")
}

/// A CSS class for a finding's colour.
pub fn finding_class(finding: Finding) -> &'static str {
    match finding {
        Finding::Holds => "holds",
        Finding::Partly => "partly",
        Finding::DoesNotHold => "fails",
        Finding::NotMeasured => "unmeasured",
    }
}

/// Every claim with its checks; nothing when the claims do not concern the run (no claims).
pub fn section(claims: &[Claim]) -> Markup {
    if claims.is_empty() {
        return html! {};
    }
    html! {
        section #claims {
            h2 { "The article's claims" }
            p {
                "The claims of the article this project reproduces, " (ARTICLE) ", in its order, each checked for \
                 the Python servers and for the Rust models that answer them, with the figures behind the finding."
            }
            ol.verdicts {
                @for claim in claims {
                    li id=(claim_anchor(claim.number)) {
                        strong { (claim.statement) }
                        ul {
                            @for check in &claim.checks {
                                li { (check.sentence()) }
                            }
                        }
                    }
                }
            }
        }
    }
}
