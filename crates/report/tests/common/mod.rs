//! What the report's integration tests share: the committed fixture, CSS selection on the rendered page, and the
//! page's anchors.
#![allow(dead_code)] // each test file uses its own share of these

use std::path::PathBuf;

use results::RunResults;
use scraper::{ElementRef, Html, Selector};

pub fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../analysis/tests/fixtures/small.json")
}

pub fn fixture() -> RunResults {
    RunResults::read(&fixture_path()).expect("the fixture reads as results")
}

pub fn select<'a>(document: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|error| panic!("bad selector {css}: {error:?}"));
    document.select(&selector).collect()
}

pub fn text_of(element: &ElementRef<'_>) -> String {
    element.text().collect::<Vec<_>>().join("")
}

/// The anchor the report gives a phase: its 1-based position and its name, lowercased, dashes for the rest.
pub fn phase_anchor(index: usize, name: &str) -> String {
    let mut slug = String::new();
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    format!("p{}-{}", index + 1, slug.trim_matches('-'))
}

pub fn phase_names(results: &RunResults) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for phase in results.targets.iter().flat_map(|target| &target.phases) {
        if !names.contains(&phase.name) {
            names.push(phase.name.clone());
        }
    }
    names
}

pub fn select_in<'a>(element: &ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    element.select(&Selector::parse(css).expect("selector")).collect()
}

/// Gives every target of `phase` the first target's load figures in every repetition: the targets are then level.
pub fn make_level(results: &mut RunResults, phase: &str) {
    let first =
        results.targets[0].phases.iter().filter(|p| p.name == phase).map(|p| p.load.clone()).collect::<Vec<_>>();
    for target in &mut results.targets {
        for (index, measured) in target.phases.iter_mut().filter(|p| p.name == phase).enumerate() {
            measured.load = first[index % first.len()].clone();
        }
    }
}
