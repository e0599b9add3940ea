//! Default target names for `rustcorn bench servers`, distinct as hyperfine's are (it names a command by the
//! command itself), but short: the program, plus the words that tell the command apart from the others that run the
//! same program (`uvicorn`, `uvicorn-workers2`), and the whole command only when nothing shorter is unique.

/// One name per command, in order, each distinct from the others: the program alone when no other command runs it,
/// else the program and the words the others lack, else the whole command; identical commands get `-2`, `-3`.
pub fn default_names(commands: &[&str]) -> Vec<String> {
    let words: Vec<Vec<String>> = commands.iter().map(|command| named_words(command)).collect();
    let mut names: Vec<String> = words.iter().map(|words| words[0].clone()).collect();
    if !all_distinct(&names) {
        names = words.iter().map(|mine| shortest(mine, &words)).collect();
    }
    if !all_distinct(&names) {
        names = words.iter().map(|mine| join(mine)).collect();
    }
    number_repeats(names)
}

/// The command's words that can name it: its program without the folder first (inside `sh -c 'exec ...'` when it
/// is wrapped so), then the other words, without the ones holding a `{placeholder}` (the port, a swept parameter
/// named by its value elsewhere) and without the flag that takes such a word.
fn named_words(command: &str) -> Vec<String> {
    let mut words = shell_words::split(command)
        .unwrap_or_else(|_| command.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
    if words.len() == 3 && matches!(program(&words[0]), "sh" | "bash") && words[1] == "-c" {
        let inner = words[2].strip_prefix("exec ").unwrap_or(&words[2]).to_owned();
        words = shell_words::split(&inner).unwrap_or_else(|_| inner.split_whitespace().map(str::to_owned).collect());
    }
    let Some(first) = words.first() else { return vec!["server".to_owned()] };
    let mut kept = vec![sanitize(program(first))];
    for (index, word) in words.iter().enumerate().skip(1) {
        let takes_placeholder = words.get(index + 1).is_some_and(|next| next.contains('{')) && is_flag(word);
        if !word.contains('{') && !takes_placeholder {
            kept.push(word.clone());
        }
    }
    kept
}

/// The program and the words of `mine` that some other command of the same program lacks, each value with the
/// flag before it (`-w 2` against `-w 4` names `gunicorn-w2`).
fn shortest(mine: &[String], all: &[Vec<String>]) -> String {
    let peers: Vec<&Vec<String>> = all.iter().filter(|other| other[0] == mine[0] && other.as_slice() != mine).collect();
    let differs = |word: &String| peers.iter().any(|other| !other.contains(word));
    let mut chosen = vec![mine[0].clone()];
    for (index, word) in mine.iter().enumerate().skip(1) {
        let flag_of_next = is_flag(word) && mine.get(index + 1).is_some_and(|next| !is_flag(next) && differs(next));
        if differs(word) || flag_of_next {
            chosen.push(word.clone());
        }
    }
    join(&chosen)
}

/// `uvicorn`, `--workers`, `2` -> `uvicorn-workers2`: a flag is joined to its value, as built-in models are named.
fn join(words: &[String]) -> String {
    let mut name = String::new();
    for (index, word) in words.iter().enumerate() {
        let joins_value = index > 0 && is_flag(&words[index - 1]) && !is_flag(word);
        if index > 0 && !joins_value {
            name.push('-');
        }
        name.push_str(&sanitize(word.trim_start_matches('-')));
    }
    name
}

fn number_repeats(names: Vec<String>) -> Vec<String> {
    let mut numbered = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        let before = names[..index].iter().filter(|earlier| *earlier == name).count();
        numbered.push(if before == 0 { name.clone() } else { format!("{name}-{}", before + 1) });
    }
    numbered
}

fn all_distinct(names: &[String]) -> bool {
    names.iter().enumerate().all(|(index, name)| !names[..index].contains(name))
}

fn is_flag(word: &str) -> bool {
    word.starts_with('-') && word.len() > 1
}

/// A word's program name: `../../.venv-peers/bin/uvicorn` -> `uvicorn`.
fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Keeps the characters a target name may hold (letters, digits, '-', '_', '.').
pub(super) fn sanitize(text: &str) -> String {
    let kept: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    if kept.is_empty() {
        "server".to_owned()
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issues_five_commands_get_five_short_distinct_names() {
        let commands = [
            "uvicorn main:app --port {port}",
            "uvicorn main:app --port {port} --workers 2",
            "gunicorn -w 2 -k uvicorn_worker.UvicornWorker main:app --bind 127.0.0.1:{port}",
            "granian --interface asgi --workers 2 --port {port} main:app",
            "hypercorn -w 2 --bind 127.0.0.1:{port} main:app",
        ];
        assert_eq!(default_names(&commands), ["uvicorn", "uvicorn-workers2", "gunicorn", "granian", "hypercorn"]);
    }

    #[test]
    fn a_value_is_named_with_its_flag_and_a_lone_program_by_itself() {
        let commands = ["gunicorn -w 2 app:app -b :{port}", "gunicorn -w 4 app:app -b :{port}", "./server {port}"];
        assert_eq!(default_names(&commands), ["gunicorn-w2", "gunicorn-w4", "server"]);
        let wrapped = ["sh -c 'exec ../bin/uvicorn main:app --port {port}'", "uvicorn other:app --port {port}"];
        assert_eq!(default_names(&wrapped), ["uvicorn-main_app", "uvicorn-other_app"]);
    }

    #[test]
    fn words_in_another_order_fall_back_to_the_whole_command_and_repeats_are_numbered() {
        let reordered = ["uvicorn --workers 2 main:app", "uvicorn main:app --workers 2"];
        assert_eq!(default_names(&reordered), ["uvicorn-workers2-main_app", "uvicorn-main_app-workers2"]);
        let twice = ["uvicorn main:app", "uvicorn main:app", "uvicorn main:app"];
        assert_eq!(default_names(&twice), ["uvicorn-main_app", "uvicorn-main_app-2", "uvicorn-main_app-3"]);
    }
}
