//! Every ```sh block of README.md and bench-suite/README.md runs as written, in bash with `set -euo pipefail`, from
//! a scratch folder laid out like the repository: `target/release/rustcorn` and `rustcorn` on PATH are the binary
//! cargo built for this test, `bench-suite/python` is the repository's, `results/baseline.json` a copy. What a test
//! cannot run as written is named below with its reason, never left out silently: [`SKIPPED_BLOCKS`],
//! [`SKIPPED_LINES`], and the durations in [`SHORTENED`] (the README's own loads take minutes in all). The blocks run in
//! order and, as in a reader's terminal, the servers one block starts in the background serve the next ones; all
//! are stopped at the end. The README binds fixed ports (8000-8005, 9000, 9443), so the test is in the heavy group,
//! which runs one test at a time.

mod support;

use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{project_root, venv_bin};

/// Longest any one block may run (the quick suite with its shortened phases takes ~20 s on two busy cores).
const BLOCK_TIMEOUT: Duration = Duration::from_secs(240);

/// Blocks (by their first line) that do not run here, with the reason.
const SKIPPED_BLOCKS: [(&str, &str); 1] =
    [("make bench   #", "`make bench` runs the default suite (~4 minutes) and `make test` is what runs this test")];

/// Lines that do not run here (they become `:`), with the reason.
const SKIPPED_LINES: [(&str, &str); 4] = [
    ("cargo build --release", "the test runs the binary cargo built for it; a release build takes minutes"),
    (
        "rustcorn bench servers 'uvicorn myapp:app",
        "no server here takes a POST (myapp is the reader's own app); bench_servers.rs sends the same flags to a \
         recording server",
    ),
    (
        "target/release/rustcorn load http://127.0.0.1:8006/async-google --find-capacity",
        "a search's steps last up to 10 s each at these rates (a minute in all); load_open.rs and bench_run.rs run \
         searches",
    ),
    (
        "rustcorn bench run bench-suite/default.toml",
        "the default suite takes about 4 minutes: it is what `make bench` runs",
    ),
];

/// Substitutions that shorten the README's loads (the servers example sweeps one gunicorn worker count, not three:
/// each Python server costs seconds to start); the quick suite's phases are shortened in its copy
/// ([`shortened_quick_suite`]).
const SHORTENED: [(&str, &str); 4] =
    [("-z 10s", "-z 1s"), ("-z 60s", "-z 3s"), ("--runs 3", "--runs 1"), ("workers 1,2,4", "workers 2")];

/// Lines whose exit 1 is a measured outcome here, not a fault of the command: `bench compare` exits 1 when it
/// finds a regression, and this test's debug binary with 300 ms phases on a shared machine is slower than the
/// release-built baseline (the memory phase above all). Exit 2, unusable input (the compare example's old "BASE and
/// NEW share no phase"), still fails the block.
const EXIT_1_MEASURED: [&str; 1] = ["rustcorn bench compare "];

/// What a block must print beside exiting 0, by a line it contains.
const EXPECTED_OUTPUT: [(&str, &[&str]); 2] = [
    ("curl -s http://127.0.0.1:8000/cpu-intensive", &["CPU-intensive task completed"]),
    ("curl -s http://127.0.0.1:8004/async-google", &["Async request to google.com completed"; 2]),
];

/// One ```sh block: its file, first line number and text.
struct Block {
    file: &'static str,
    line: usize,
    text: String,
}

fn sh_blocks(file: &'static str) -> Vec<Block> {
    let text = fs::read_to_string(project_root().join(file)).expect("read the README");
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in text.lines().enumerate() {
        match open.take() {
            None if line.trim_start() == "```sh" => open = Some(Block { file, line: index + 2, text: String::new() }),
            None => {}
            Some(block) if line.trim_start() == "```" => blocks.push(block),
            Some(mut block) => {
                block.text.push_str(line);
                block.text.push('\n');
                open = Some(block);
            }
        }
    }
    assert!(open.is_none(), "{file}: a ```sh block is never closed");
    blocks
}

/// The block as it runs here: skipped lines become `:` with their reason, loads shortened.
fn prepared(block: &Block) -> Result<String, &'static str> {
    let first = block.text.lines().next().unwrap_or("");
    if let Some((_, reason)) = SKIPPED_BLOCKS.iter().find(|(start, _)| first.starts_with(start)) {
        return Err(reason);
    }
    let mut script = String::from("set -euo pipefail\n");
    for line in block.text.lines() {
        match SKIPPED_LINES.iter().find(|(start, _)| line.starts_with(start)) {
            Some((_, reason)) => {
                eprintln!("SKIP line {line:?}: {reason}");
                script.push_str(": skipped\n");
            }
            None => {
                let mut line = line.to_owned();
                for (from, to) in SHORTENED {
                    line = line.replace(from, to);
                }
                if EXIT_1_MEASURED.iter().any(|start| line.starts_with(start)) {
                    // Before the line's comment, if any, so the test reads the command's own status.
                    let end = line.find(" #").unwrap_or(line.len());
                    line.insert_str(end, " || test $? -eq 1");
                }
                script.push_str(&line);
                script.push('\n');
            }
        }
    }
    Ok(script)
}

/// quick.toml with 300 ms phases and 100 ms warm-ups instead of 2 s and 500 ms (same targets, phases and checks).
fn shortened_quick_suite(root: &Path) -> String {
    let text = fs::read_to_string(root.join("bench-suite/quick.toml")).expect("read quick.toml");
    let shortened =
        text.replace("duration = \"2s\"", "duration = \"300ms\"").replace("warmup = \"500ms\"", "warmup = \"100ms\"");
    assert_ne!(shortened, text, "quick.toml's phase durations changed: update the shortening");
    shortened
}

/// The scratch folder laid out like the repository.
fn scratch(python: Option<&Path>) -> (PathBuf, String) {
    let root = project_root();
    let dir = std::env::temp_dir().join(format!("rustcorn-readme-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    for sub in ["target/release", "bin", "bench-suite", "results"] {
        fs::create_dir_all(dir.join(sub)).expect("create the scratch layout");
    }
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_rustcorn"));
    std::os::unix::fs::symlink(&binary, dir.join("target/release/rustcorn")).expect("link target/release/rustcorn");
    std::os::unix::fs::symlink(&binary, dir.join("bin/rustcorn")).expect("link bin/rustcorn");
    std::os::unix::fs::symlink(root.join("bench-suite/python"), dir.join("bench-suite/python")).expect("link python");
    fs::write(dir.join("bench-suite/quick.toml"), shortened_quick_suite(&root)).expect("write quick.toml");
    fs::copy(root.join("results/baseline.json"), dir.join("results/baseline.json")).expect("copy the baseline");
    let mut path = dir.join("bin").display().to_string();
    if let Some(python) = python {
        path = format!("{path}:{}", python.display());
    }
    path = format!("{path}:{}", std::env::var("PATH").unwrap_or_default());
    (dir, path)
}

/// The process groups of the blocks run so far, with the servers they left running: stopped when dropped, also
/// when the test fails.
#[derive(Default)]
struct Groups(Vec<libc::pid_t>);

impl Drop for Groups {
    fn drop(&mut self) {
        for &group in &self.0 {
            stop_group(group);
        }
    }
}

/// Runs a script in its own process group, kept in `groups`. Returns the exit status (None: timed out) and the
/// output.
fn run_block(dir: &Path, path: &str, script: &str, name: &str, groups: &mut Groups) -> (Option<i32>, String, String) {
    let stdout_path = dir.join(format!("{name}.stdout"));
    let stderr_path = dir.join(format!("{name}.stderr"));
    // Files, not pipes: the servers a block leaves in the background would hold a pipe open past the block.
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("RUSTCORN_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .process_group(0)
        .spawn()
        .expect("start bash");
    groups.0.push(child.id() as libc::pid_t);
    let status = support::wait_exit(&mut child, BLOCK_TIMEOUT);
    let code = status.map(|status| status.code().unwrap_or(-1));
    let read = |file: &Path| fs::read_to_string(file).unwrap_or_default();
    (code, read(&stdout_path), read(&stderr_path))
}

/// SIGTERM to the group (servers stop gracefully), SIGKILL to what is left after 20 s.
fn stop_group(group: libc::pid_t) {
    // SAFETY: kill(2) on the process group this test created; no memory is involved.
    let alive = || unsafe { libc::kill(-group, 0) } == 0;
    unsafe { libc::kill(-group, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive() {
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
}

fn needs_python(script: &str) -> bool {
    script.contains("uvicorn ") || script.contains("gunicorn ")
}

#[test]
fn heavy_every_readme_command_block_runs_as_written() {
    let mut blocks = sh_blocks("README.md");
    blocks.extend(sh_blocks("bench-suite/README.md"));
    assert!(blocks.len() >= 6, "found only {} ```sh blocks in the READMEs", blocks.len());
    let python = venv_bin();
    let (dir, path) = scratch(python.as_ref().ok().map(PathBuf::as_path));
    let mut groups = Groups::default();
    let mut ran = 0;
    for (index, block) in blocks.iter().enumerate() {
        let place = format!("{}:{}", block.file, block.line);
        let script = match prepared(block) {
            Ok(script) => script,
            Err(reason) => {
                eprintln!("SKIP block {place}: {reason}");
                continue;
            }
        };
        if let (true, Err(reason)) = (needs_python(&script), &python) {
            support::skip(&format!("block {place}"), &format!("the Python peers' venv cannot be built here: {reason}"));
            continue;
        }
        let started = Instant::now();
        let (code, stdout, stderr) = run_block(&dir, &path, &script, &format!("block{index}"), &mut groups);
        eprintln!("block {place}: exit {code:?} in {:.1} s", started.elapsed().as_secs_f64());
        assert_eq!(code, Some(0), "block {place} failed:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        for (line, expected) in EXPECTED_OUTPUT {
            if script.contains(line) {
                for (count, needle) in expected.iter().enumerate() {
                    let found = stdout.matches(needle).count();
                    assert!(found > count, "block {place} printed {found} x {needle:?}:\n{stdout}\n{stderr}");
                }
            }
        }
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} blocks ran");
    drop(groups);
    let _ = fs::remove_dir_all(&dir);
}
