//! The load generator: Locust users, wrk concurrency and wrk2 constant rate, recorded in HDR histograms.
