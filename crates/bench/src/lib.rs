//! The benchmark driver: suites, targets, resource sampling, results and comparisons.
