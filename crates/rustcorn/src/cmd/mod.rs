//! One module per subcommand: its clap arguments and the call into the crate that does the work.

pub mod bench;
pub mod bench_baseline;
pub mod bench_collect;
pub mod bench_compare;
pub mod bench_k8s;
pub mod bench_merge;
pub mod bench_run;
pub mod bench_servers;
pub mod load;
pub mod load_capacity;
pub mod load_request;
pub mod report;
pub mod serve;
pub mod upstream;
