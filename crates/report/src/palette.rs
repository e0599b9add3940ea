//! Colours: one per target, stable across every chart of a report, from a warm palette for the Rust family and a
//! cool one for the Python family so the two read apart at a glance.

use plotters::style::RGBColor;
use results::Family;

/// Warm hues (orange, red, brown, magenta, ochre, plum, crimson, rust) for rustcorn's own models.
const RUST: [RGBColor; 8] = [
    RGBColor(0xd9, 0x5f, 0x02),
    RGBColor(0xb2, 0x18, 0x2b),
    RGBColor(0x8c, 0x51, 0x0a),
    RGBColor(0xe7, 0x29, 0x8a),
    RGBColor(0xbf, 0x8b, 0x00),
    RGBColor(0x7a, 0x01, 0x77),
    RGBColor(0xf4, 0x6d, 0x43),
    RGBColor(0x5e, 0x2a, 0x0a),
];

/// Cool hues (blue, teal, green, navy, cyan, olive green, slate, sea green) for the Python peers.
const PYTHON: [RGBColor; 8] = [
    RGBColor(0x1f, 0x78, 0xb4),
    RGBColor(0x1b, 0x9e, 0x77),
    RGBColor(0x33, 0xa0, 0x2c),
    RGBColor(0x08, 0x30, 0x6b),
    RGBColor(0x17, 0xbe, 0xcf),
    RGBColor(0x4d, 0x7a, 0x1e),
    RGBColor(0x5b, 0x6e, 0x9c),
    RGBColor(0x00, 0x6d, 0x5b),
];

/// Your own servers (external commands of no known role): violets, apart from Rust's warm hues and Python's
/// blues and greens.
const EXTERNAL: [RGBColor; 6] = [
    RGBColor(0x6a, 0x3d, 0x9a),
    RGBColor(0x80, 0x7d, 0xba),
    RGBColor(0x3f, 0x00, 0x7d),
    RGBColor(0x9e, 0x9a, 0xc8),
    RGBColor(0x54, 0x27, 0x8f),
    RGBColor(0x4a, 0x14, 0x86),
];

/// Colours for lines that are not targets (trend figures), distinct from both families' first hues.
const NEUTRAL: [RGBColor; 6] = [
    RGBColor(0x44, 0x44, 0x44),
    RGBColor(0x66, 0x66, 0xaa),
    RGBColor(0xaa, 0x66, 0x66),
    RGBColor(0x66, 0xaa, 0x66),
    RGBColor(0x99, 0x77, 0x33),
    RGBColor(0x33, 0x88, 0x99),
];

/// Grey for ideal lines, missing-data marks and other annotations.
pub const ANNOTATION: RGBColor = RGBColor(0x70, 0x70, 0x70);

/// The colour of the `nth` target (0-based, counted within its family, in suite order).
pub fn target_colour(family: Family, nth: usize) -> RGBColor {
    let palette: &[RGBColor] = match family {
        Family::Rust => &RUST,
        Family::Python => &PYTHON,
        Family::External => &EXTERNAL,
    };
    let base = palette[nth % palette.len()];
    // Past the palette, darken each round so repeats stay distinguishable.
    let round = (nth / palette.len()) as u32;
    darken(base, round)
}

/// The colour of the `nth` trend line.
pub fn neutral_colour(nth: usize) -> RGBColor {
    darken(NEUTRAL[nth % NEUTRAL.len()], (nth / NEUTRAL.len()) as u32)
}

/// An opaque lighter shade: `amount` of the way to white (0 keeps the colour, 1 is white).
pub fn lighten(colour: RGBColor, amount: f64) -> RGBColor {
    let blend = |channel: u8| (f64::from(channel) + (255.0 - f64::from(channel)) * amount).round() as u8;
    RGBColor(blend(colour.0), blend(colour.1), blend(colour.2))
}

/// `#rrggbb`, for CSS.
pub fn hex(colour: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}

fn darken(colour: RGBColor, steps: u32) -> RGBColor {
    let scale = |channel: u8| (f64::from(channel) * 0.7f64.powi(steps as i32)).round() as u8;
    RGBColor(scale(colour.0), scale(colour.1), scale(colour.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_share_no_colour_and_each_palette_is_distinct() {
        let rust: Vec<_> = (0..RUST.len()).map(|n| target_colour(Family::Rust, n)).collect();
        let python: Vec<_> = (0..PYTHON.len()).map(|n| target_colour(Family::Python, n)).collect();
        for colour in &rust {
            assert!(!python.contains(colour), "{colour:?} in both families");
            assert_eq!(rust.iter().filter(|other| *other == colour).count(), 1);
        }
        for colour in &python {
            assert_eq!(python.iter().filter(|other| *other == colour).count(), 1);
        }
    }

    #[test]
    fn repeats_past_the_palette_are_darker_not_identical() {
        let first = target_colour(Family::Rust, 0);
        let repeat = target_colour(Family::Rust, RUST.len());
        assert_ne!(first, repeat);
        assert!(repeat.0 < first.0);
    }

    #[test]
    fn lighten_goes_towards_white_and_stays_opaque() {
        assert_eq!(lighten(RGBColor(0, 100, 255), 0.5), RGBColor(128, 178, 255));
        assert_eq!(lighten(RGBColor(10, 20, 30), 0.0), RGBColor(10, 20, 30));
    }

    #[test]
    fn hex_is_css_ready() {
        assert_eq!(hex(RGBColor(0xd9, 0x5f, 0x02)), "#d95f02");
    }
}
