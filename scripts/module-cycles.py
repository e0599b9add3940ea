#!/usr/bin/env python3
"""Files that `use` each other in a circle, within each crate under crates/ (make lint runs it).

An edge runs from a file to every other file of its crate whose module it names, in a `use` declaration
(`crate::a::b`, `super::x`, `self::x`, or a child module by name) or in a path in its code (`crate::a::f()`). A parent's use of its own child modules
(`mod level; pub use level::Level;`) is not an edge: a module owning its children is the tree, not a circle.
Prints each circle (a strongly connected component of more than one file) and exits 1 when there is one.
"""
import pathlib
import re
import sys

USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M)
# A path in code (`crate::verdict::join_and(..)`, `super::sections::target_cell`), with the line's indentation.
PATH = re.compile(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)")


def module_of(src, path):
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def expand(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e], as lists of segments."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, text):
        depth, start, items = 0, 0, []
        for i, ch in enumerate(text):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(text[start:i])
                start = i + 1
        items.append(text[start:])
        for item in filter(None, items):
            if "{" in item:
                head, rest = item.split("{", 1)
                walk(prefix + [s for s in head.split("::") if s], rest[: rest.rindex("}")])
            else:
                segments = [s for s in re.split(r"\bas\b", item)[0].split("::") if s]
                out.append(prefix + segments)

    walk([], tree)
    return out


def crate_graph(src):
    files = {module_of(src, p): p for p in src.rglob("*.rs")}
    children = {m: {c[-1] for c in files if len(c) == len(m) + 1 and c[: len(m)] == m} for m in files}
    edges = {m: set() for m in files}
    for module, path in files.items():
        text = re.sub(r"//[^\n]*", "", path.read_text())
        # Inside an inline module (`mod tests { .. }`, to the end of the file as they are written here), `super`
        # is the file's own module.
        inline = re.search(r"^\s*mod\s+\w+\s*\{", text, re.M)
        split = inline.start() if inline else len(text)
        trees = []
        for inner, part in ((False, text[:split]), (True, text[split:])):
            trees += [(inner, tree) for tree in USE.findall(part)]
            trees += [(inner, path) for path in PATH.findall(USE.sub("", part))]
        for inner, tree in trees:
            for segments in expand(tree):
                here = module
                if segments[0] == "crate":
                    target, rest = (), segments[1:]
                elif segments[0] == "super":
                    target, rest = (here if inner else here[:-1]), segments[1:]
                    while rest and rest[0] == "super":
                        target, rest = target[:-1], rest[1:]
                elif segments[0] == "self":
                    target, rest = here, segments[1:]
                elif segments[0] in children[module]:
                    target, rest = here, segments
                else:
                    continue
                for segment in rest:
                    if target + (segment,) in files:
                        target = target + (segment,)
                    else:
                        break
                is_descendant = target[: len(module)] == module
                if target != module and target in files and not is_descendant:
                    edges[module].add(target)
    return files, edges


def circles(edges):
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(component)

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return result


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    found = 0
    for src in sorted(root.glob("crates/*/src")):
        files, edges = crate_graph(src)
        for component in circles(edges):
            found += 1
            names = sorted(str(files[m].relative_to(root)) for m in component)
            print(f"import circle in {src.parent.name}: " + " <-> ".join(names))
    if found:
        print(f"{found} import circle(s): move the shared part into its own module, or turn a dependency around")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
