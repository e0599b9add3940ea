//! Latency recording in microseconds: [`Latencies`] (an HdrHistogram at 3 significant digits plus the exact min,
//! max and sum it would otherwise round) and the base64 V2-compressed encoding reports carry so they merge exactly.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::LoadError;

/// HdrHistogram precision used everywhere: 3 significant digits (0.1 % of the value).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Values up to this (60 s in µs) are recorded without the histogram growing (growth allocates).
const PRESIZED_MAX_US: u64 = 60_000_000;

/// A fresh histogram of microseconds, sized for 60 s and auto-resizing beyond.
pub fn new_histogram() -> Histogram<u64> {
    let mut histogram = Histogram::new_with_max(PRESIZED_MAX_US, SIGNIFICANT_DIGITS)
        .expect("1..60e6 at 3 significant digits is a valid HdrHistogram range");
    histogram.auto(true);
    histogram
}

/// One latency distribution in microseconds. `min`, `max` and `sum` are exact; the histogram rounds each value to
/// its 3-digit bucket, so percentiles are reported clamped into `[min, max]`.
#[derive(Debug, Clone)]
pub struct Latencies {
    pub histogram: Histogram<u64>,
    pub min_us: u64,
    pub max_us: u64,
    pub sum_us: u64,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies { histogram: new_histogram(), min_us: u64::MAX, max_us: 0, sum_us: 0 }
    }
}

impl Latencies {
    #[inline]
    pub fn record(&mut self, micros: u64) {
        if self.histogram.record(micros).is_err() {
            // Only past u64 range; clamping is the best that can be done there.
            self.histogram.saturating_record(micros);
        }
        self.min_us = self.min_us.min(micros);
        self.max_us = self.max_us.max(micros);
        self.sum_us = self.sum_us.saturating_add(micros);
    }

    pub fn samples(&self) -> u64 {
        self.histogram.len()
    }

    /// The exact minimum, 0 when empty.
    pub fn min(&self) -> u64 {
        if self.samples() == 0 {
            0
        } else {
            self.min_us
        }
    }

    pub fn add(&mut self, other: &Latencies) -> Result<(), LoadError> {
        self.histogram.add(&other.histogram).map_err(|error| LoadError::Histogram(format!("{error:?}")))?;
        self.min_us = self.min_us.min(other.min_us);
        self.max_us = self.max_us.max(other.max_us);
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
        Ok(())
    }

    /// The value at `percentile` (0-100), clamped to the exact min and max so p100 is the max and no percentile
    /// reads above it (locust#255).
    pub fn percentile(&self, percentile: f64) -> u64 {
        if self.samples() == 0 {
            return 0;
        }
        self.histogram.value_at_percentile(percentile).clamp(self.min_us, self.max_us)
    }

    pub fn mean(&self) -> f64 {
        match self.samples() {
            0 => 0.0,
            samples => self.sum_us as f64 / samples as f64,
        }
    }
}

/// Base64 of the V2 compressed encoding: the form HdrHistogram's own tools and interval logs use.
pub fn encode(histogram: &Histogram<u64>) -> String {
    base64::engine::general_purpose::STANDARD.encode(encode_bytes(histogram))
}

/// The V2 compressed encoding.
pub fn encode_bytes(histogram: &Histogram<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Serializing into a Vec fails only for a histogram whose counts overflow the format.
    if let Err(error) = V2DeflateSerializer::new().serialize(histogram, &mut bytes) {
        tracing::warn!(?error, "cannot encode a histogram");
        bytes.clear();
    }
    bytes
}

/// Reverses [`encode`]; also accepts uncompressed V2. The result auto-resizes so it can absorb wider histograms.
pub fn decode(text: &str) -> Result<Histogram<u64>, LoadError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|error| LoadError::Histogram(error.to_string()))?;
    decode_bytes(&bytes)
}

/// Reverses [`encode_bytes`].
pub fn decode_bytes(bytes: &[u8]) -> Result<Histogram<u64>, LoadError> {
    let mut histogram: Histogram<u64> =
        Deserializer::new().deserialize(&mut &bytes[..]).map_err(|error| LoadError::Histogram(format!("{error:?}")))?;
    histogram.auto(true);
    Ok(histogram)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_min_max_and_clamped_percentiles() {
        let mut latencies = Latencies::default();
        for value in [50_010, 50_020, 50_500, 51_234] {
            latencies.record(value);
        }
        assert_eq!(latencies.min(), 50_010);
        assert_eq!(latencies.max_us, 51_234);
        assert_eq!(latencies.percentile(100.0), 51_234);
        assert!(latencies.percentile(0.0) >= 50_010);
        assert_eq!(latencies.mean(), (50_010 + 50_020 + 50_500 + 51_234) as f64 / 4.0);
    }

    #[test]
    fn encoding_round_trips_and_merges_exactly() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for value in 1..=1000u64 {
            a.record(value).unwrap();
            b.record(value * 1000).unwrap();
        }
        let mut merged = decode(&encode(&a)).unwrap();
        merged.add(decode(&encode(&b)).unwrap()).unwrap();
        let mut direct = a.clone();
        direct.add(&b).unwrap();
        assert_eq!(merged, direct);
        assert!(decode("not base64!").is_err());
    }
}
