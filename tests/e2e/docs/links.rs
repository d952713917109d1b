//! Every relative link in the docs resolves, and the link check finds what is broken.

use super::*;

/// The pages whose links are checked: the README, every page of `docs/` and the
/// benchmarks' README.
fn linked_pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_owned(), "bench/README.md".to_owned()];
    pages.extend(docs_pages());
    pages
}

/// `markdown`'s lines outside fenced code blocks, numbered from 1.
fn prose_lines(markdown: &str) -> Vec<(usize, &str)> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for (index, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            lines.push((index + 1, line));
        }
    }
    lines
}

/// `line` without its inline code spans, whose brackets are not links.
fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The targets of the inline links (`[text](target)`, images too) and reference
/// definitions (`[label]: target`) of `markdown`, with their line numbers.
fn link_targets(markdown: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    for (number, line) in prose_lines(markdown) {
        let line = without_code_spans(line);
        if let Some(rest) = line.trim_start().strip_prefix('[')
            && let Some((_, target)) = rest.split_once("]: ")
        {
            targets.push((number, target.trim().to_owned()));
            continue;
        }
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            // `<target>` and a `"title"` after the target are both allowed.
            let target = after[..end]
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_start_matches('<')
                .trim_end_matches('>');
            targets.push((number, target.to_owned()));
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading's text: inline markup dropped (a link keeps its text),
/// lower-cased, everything but letters, digits, `-`, `_` and spaces removed, spaces made
/// hyphens.
fn github_anchor(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // `[text](target)` → `text`.
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|at| open + at) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|at| close + at) else {
            break;
        };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    text.chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of `markdown`'s headings, as GitHub makes them (a repeated one gets `-1`,
/// `-2`, …).
fn heading_anchors(markdown: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    for (_, line) in prose_lines(markdown) {
        let Some(text) = line
            .strip_prefix('#')
            .map(|rest| rest.trim_start_matches('#'))
            .filter(|text| text.starts_with(' '))
        else {
            continue;
        };
        let anchor = github_anchor(text.trim().trim_end_matches('#').trim());
        let repeats = anchors
            .iter()
            .filter(|seen| {
                **seen == anchor
                    || seen
                        .strip_prefix(anchor.as_str())
                        .and_then(|suffix| suffix.strip_prefix('-'))
                        .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .count();
        anchors.push(if repeats == 0 {
            anchor
        } else {
            format!("{anchor}-{repeats}")
        });
    }
    anchors
}

/// What is wrong with the relative links of `markdown`, the page at `page` (relative to
/// `root`): each target must be a file or folder there, and an `#anchor` a heading of the
/// page it points into.
fn broken_links(root: &Path, page: &str, markdown: &str) -> Vec<String> {
    let directory = Path::new(page).parent().unwrap_or(Path::new(""));
    let mut broken = Vec::new();
    for (line, target) in link_targets(markdown) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((path, anchor)) => (path, Some(anchor)),
            None => (target.as_str(), None),
        };
        // An anchor alone points into this page.
        let file = root.join(directory).join(path);
        if !path.is_empty() && !file.exists() {
            broken.push(format!("{page}:{line}: {target}: no such file"));
            continue;
        }
        let Some(anchor) = anchor else { continue };
        let text = if path.is_empty() {
            markdown.to_owned()
        } else {
            std::fs::read_to_string(&file).unwrap_or_default()
        };
        if !heading_anchors(&text).iter().any(|known| known == anchor) {
            broken.push(format!(
                "{page}:{line}: {target}: no heading with that anchor"
            ));
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = root();
    let mut broken = Vec::new();
    let mut links = 0;
    for page in linked_pages() {
        let markdown = read(&page);
        links += link_targets(&markdown).len();
        broken.extend(broken_links(&root, &page, &markdown));
    }
    assert!(links > 30, "only {links} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The check itself finds a missing file, a missing heading and a renamed one, and leaves
/// code alone, so a passing run means something.
#[test]
fn the_link_check_finds_what_is_broken() {
    let page = "docs/example.md";
    let markdown = "# Example: `one` (two)\n\
        \n\
        ## Twice\n\
        ## Twice\n\
        \n\
        See [the README](../README.md#a-first-session), [errors](http.md#error-codes),\n\
        [above](#example-one-two), [again](#twice-1), [tests](../tests/clients) and\n\
        [the web](https://example.com/missing.md).\n\
        Broken: [gone](gone.md), [no heading](#nowhere), [renamed](http.md#errors).\n\
        Not links: `[x](y.md)`, and in a block:\n\
        ```\n\
        [z](z.md)\n\
        ```\n\
        [ref]: operations.md#nothing-here\n";
    assert_eq!(
        heading_anchors(markdown),
        ["example-one-two", "twice", "twice-1"]
    );
    assert_eq!(
        broken_links(&root(), page, markdown),
        [
            "docs/example.md:9: gone.md: no such file",
            "docs/example.md:9: #nowhere: no heading with that anchor",
            "docs/example.md:9: http.md#errors: no heading with that anchor",
            "docs/example.md:14: operations.md#nothing-here: no heading with that anchor",
        ]
    );
}
