use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::documents::DocumentSplitter;
use crate::yaml::parse_with_saphyr;

/// Whatever the quick reader takes, it reads as serde-saphyr does; says whether it took it.
fn agrees(text: &str) -> bool {
    let Some(quick) = parse(text) else {
        return false;
    };
    match parse_with_saphyr(text) {
        Ok(Some(slow)) => assert_eq!(quick, slow, "the readers differ on:\n{text}"),
        other => panic!("the quick reader took what serde-saphyr reads as {other:?}:\n{text}"),
    }
    true
}

fn documents(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    let mut splitter = DocumentSplitter::new(std::io::BufReader::new(file));
    let mut documents = Vec::new();
    while let Some(document) = splitter.next_document().unwrap() {
        documents.push(document.text);
    }
    documents
}

fn fixture_files(folder: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixture_files(&path, files);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "json")
        {
            files.push(path);
        }
    }
}

#[test]
fn every_fixture_document_reads_the_same_and_rendered_charts_take_the_quick_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for folder in ["test_data", "examples"] {
        fixture_files(&root.join(folder), &mut files);
    }
    let mut rendered = (0, 0);
    for file in &files {
        let is_rendered = file.components().any(|part| part.as_os_str() == "helm");
        for document in documents(file) {
            let quick = agrees(&document);
            if is_rendered && matches!(parse_with_saphyr(&document), Ok(Some(_))) {
                rendered.0 += usize::from(quick);
                rendered.1 += 1;
            }
        }
    }
    assert!(files.len() > 100, "{files:?}");
    // Charts' documents outside the subset hold block scalars (scripts, configuration files).
    eprintln!(
        "{} of {} rendered documents took the quick path",
        rendered.0, rendered.1
    );
    assert!(
        rendered.0 * 10 >= rendered.1 * 7,
        "only {} of {} rendered documents took the quick path",
        rendered.0,
        rendered.1
    );
}

#[test]
fn mappings_sequences_and_their_lines() {
    let text = "# Source: chart/templates/list.yaml\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n    -   name: a\n        args: [] # none\n        ports:\n        - containerPort: 80\n    - name: b\n-\n  apiVersion: v1\n\n  kind: Pod\nmetadata: {}\n";
    let parsed = parse(text).unwrap();
    assert_eq!(parsed.line, 2);
    assert_eq!(parsed.item_lines, [5, 15]);
    assert_eq!(
        parsed.value,
        json!({
            "apiVersion": "v1", "kind": "List", "metadata": {},
            "items": [
                {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [
                    {"name": "a", "args": [], "ports": [{"containerPort": 80}]},
                    {"name": "b"},
                ]}},
                {"apiVersion": "v1", "kind": "Pod"},
            ],
        })
    );
    assert!(agrees(text));
}

#[test]
fn scalars_read_as_serde_saphyr_reads_them() {
    let text = "a: yes\nb: On\nc: 0777\nd: 'it''s'\ne: ~\nf: 1.5\ng: \"0777\\t\\u00e9\"\nh: 128Mi\ni: -c\nj:\nk: null\nl: 8080\nm: 1e3\nn: x #comment\no: 'a # b'\np: a#b\nq: http://example.com:80/x\n";
    assert!(agrees(text));
    let value = parse(text).unwrap().value;
    assert_eq!(
        value,
        json!({"a": true, "b": true, "c": 511, "d": "it's", "e": null, "f": 1.5,
               "g": "0777\té", "h": "128Mi", "i": "-c", "j": null, "k": null, "l": 8080,
               "m": 1000.0, "n": "x", "o": "a # b", "p": "a#b", "q": "http://example.com:80/x"})
    );
}

#[test]
fn literal_block_scalars() {
    let text = "data:\n  script: |\n    #!/bin/sh\n\n      indented\n    \n    end\n\n\n  stripped: |- # comment\n    one\n     \n    two\n\n  list:\n  - |\n    item\n  - last\n";
    assert!(agrees(text));
    assert_eq!(
        parse(text).unwrap().value,
        json!({"data": {
            "script": "#!/bin/sh\n\n  indented\n\nend\n",
            "stripped": "one\n \ntwo",
            "list": ["item\n", "last"],
        }})
    );
}

#[test]
fn what_lies_outside_the_subset_is_left_to_serde_saphyr() {
    for text in [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |+\n  text\n",
        "a: |2\n  text\n",
        "a: |\n\n",
        "a: |\n    \n  text\n",
        "a: >\n  text\n",
        "a: [1, 2]\n",
        "a: {b: 1}\n",
        "a: multi\n  line\n",
        "a: \"multi\n  line\"\n",
        "a:\tb\n",
        "a: 1\na: 2\n",
        "a: 1\n  b: 2\n",
        "- a\n- b\n",
        "{\"a\": 1}\n",
        "plain\n",
        "? a\n: b\n",
        "<<: {a: 1}\n",
        "null: 1\n",
        "\"a\": 1\n",
        "a: b: c\n",
        "a: 'unclosed\n",
        "a: \"\\q\"\n",
        "a: -\n",
        "a:\n- - 1\n",
        "a: .inf\n",
        "# only a comment\n",
        "",
    ] {
        assert!(parse(text).is_none(), "{text:?}");
    }
}

/// A small deterministic generator (xorshift), so a failure names a seed that reproduces it.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.next() as usize % choices.len()]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Keys and scalars the quick reader takes, and those it must leave to serde-saphyr; documents
/// draw from the second lists rarely, so that a fair share of them is taken.
const KEYS: &[&str] = &[
    "name",
    "image",
    "on",
    "y",
    "8080",
    "0777",
    "a.b/c",
    "_x",
    "items",
    "k",
    "app.kubernetes.io/name",
];

const OTHER_KEYS: &[&str] = &[
    "-c",
    "x y",
    "null",
    "Null",
    "<<",
    "\"quoted\"",
    "'single'",
    "? k",
];

const SCALARS: &[&str] = &[
    "plain",
    "yes",
    "No",
    "tRue",
    "off",
    "~",
    "null",
    "0",
    "00",
    "0777",
    "08",
    "09.5",
    "8080",
    "-1",
    "+1",
    "1_000",
    "0x1F",
    "0b101",
    "0o17",
    "1e3",
    "1.5",
    ".5",
    "1.",
    "12:30",
    "2001-12-14",
    "100m",
    "128Mi",
    "1Ei",
    "0.0.0.0",
    "-c",
    "--port=80",
    "9223372036854775807",
    "18446744073709551616",
    "123456789012345678",
    "'it''s'",
    "''",
    "\"\"",
    "\"a\\tb\\u00e9\\x41\"",
    "\"\\\\ \\\" \\/\"",
    "a #comment",
    "a#b",
    "http://x:80",
    "[]",
    "{}",
    "é",
    "a , b",
    "=",
    "[] # c",
    "'a' #c",
    "x\u{a0}y",
];

const OTHER_SCALARS: &[&str] = &[
    ".inf",
    "-.Inf",
    ".NaN",
    "\"\\N\"",
    "a: b",
    "[1]",
    "{a: 1}",
    "&anchor x",
    "*alias",
    "!!str 1",
    "|",
    ">-",
    "- x",
    "-",
    "@x",
    "`x`",
    "%x",
    "? x",
    "x:",
    "'a'#c",
    "\"x\" y",
    "\"\\q\"",
    "'open",
    "tab\there",
    "nel\u{85}x",
];

impl Generator {
    fn key(&mut self) -> &'static str {
        if self.chance(3) {
            self.pick(OTHER_KEYS)
        } else {
            self.pick(KEYS)
        }
    }

    fn scalar(&mut self) -> &'static str {
        if self.chance(3) {
            self.pick(OTHER_SCALARS)
        } else {
            self.pick(SCALARS)
        }
    }
}

fn write_node(generator: &mut Generator, text: &mut String, indent: usize, depth: usize) {
    let keys = 1 + generator.next() % 4;
    let mut used = Vec::new();
    for _ in 0..keys {
        let key = generator.key();
        // Now and then a duplicate key, which serde-saphyr refuses.
        if used.contains(&key) && !generator.chance(5) {
            continue;
        }
        used.push(key);
        if generator.chance(5) {
            text.push_str(&" ".repeat(indent + (generator.next() % 3) as usize));
            text.push_str("# a comment\n");
        }
        if generator.chance(3) {
            text.push('\n');
        }
        let pad = if generator.chance(2) {
            indent + 1
        } else {
            indent
        };
        text.push_str(&" ".repeat(pad));
        text.push_str(key);
        let shape = generator.next() % 10;
        if shape == 9 {
            write_literal(generator, text, pad);
        } else if depth >= 4 || shape < 5 {
            text.push_str(": ");
            text.push_str(generator.scalar());
            text.push('\n');
            if generator.chance(2) {
                text.push_str(&" ".repeat(indent + 2));
                text.push_str("continued\n");
            }
        } else if shape < 7 {
            text.push_str(":\n");
            write_node(generator, text, indent + 2, depth + 1);
        } else {
            text.push_str(":\n");
            // Sequences at the key's indent (go-yaml v2) or below it.
            let dash = if generator.chance(50) {
                indent
            } else {
                indent + 2
            };
            for _ in 0..1 + generator.next() % 3 {
                text.push_str(&" ".repeat(dash));
                let gap = 1 + (generator.next() % 3) as usize;
                if generator.chance(40) {
                    text.push('-');
                    text.push_str(&" ".repeat(gap));
                    text.push_str(generator.scalar());
                    text.push('\n');
                } else if generator.chance(10) {
                    text.push_str("-\n");
                    write_node(generator, text, dash + 2, depth + 1);
                } else {
                    // A mapping that starts on the `-` line.
                    text.push('-');
                    text.push_str(&" ".repeat(gap - 1));
                    let mut item = String::new();
                    write_node(generator, &mut item, dash + gap, depth + 1);
                    let column = dash + gap;
                    if item.starts_with(&" ".repeat(column)) {
                        text.push_str(&item[column..]);
                    } else {
                        text.push('\n');
                        text.push_str(&item);
                    }
                }
            }
        }
    }
}

/// A block scalar after a key at `indent`: lines at, beyond and (rarely) before its indentation,
/// empty lines and lines of spaces.
fn write_literal(generator: &mut Generator, text: &mut String, indent: usize) {
    text.push_str(generator.pick(&[": |", ": |-", ": | # c", ": |+", ": |2", ": >"]));
    text.push('\n');
    let at = indent + 1 + (generator.next() % 3) as usize;
    for _ in 0..1 + generator.next() % 5 {
        let line = match generator.next() % 8 {
            0 => String::new(),
            1 => " ".repeat(at + (generator.next() % 3) as usize),
            2 => format!("{}# not a comment", " ".repeat(at)),
            3 => format!("{}deeper: {}", " ".repeat(at + 2), generator.scalar()),
            4 if generator.chance(20) => format!("{}shallower", " ".repeat(at - 1)),
            _ => format!("{}{}", " ".repeat(at), generator.scalar()),
        };
        text.push_str(&line);
        text.push('\n');
    }
}

#[test]
fn generated_documents_read_the_same() {
    let mut taken = 0;
    let documents: u64 = 20_000;
    for seed in 1..=documents {
        let mut generator = Generator(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut text = String::new();
        write_node(&mut generator, &mut text, 0, 0);
        taken += usize::from(agrees(&text));
    }
    // The test means something only if the quick reader takes a fair share of them.
    assert!(taken * 3 > documents as usize, "only {taken} taken");
}
