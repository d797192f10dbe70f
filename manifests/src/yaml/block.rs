//! A quick reader for the plain block-style YAML that `helm template`, `kustomize build` and
//! `kubectl` write: mappings, sequences (indented or not), one-line plain and quoted scalars,
//! literal block scalars, comments, `[]` and `{}`. A general YAML parser spent most of `check`'s
//! time on such documents; `make bench` compares the two readers.
//!
//! It answers `None` for anything outside that subset (anchors, tags, flow collections, folded and
//! multi-line scalars, tabs, duplicate keys, anything it doubts), and the caller then reads the
//! document with serde-saphyr. So every value, and every error, is serde-saphyr's: scalars that
//! are not plainly strings or decimal integers are resolved by serde-saphyr itself, and the tests
//! compare both readers on every fixture and on generated documents.

use serde_json::{Map, Value};

use super::ParsedDocument;

/// Deeper documents are left to serde-saphyr and its limits.
const MAX_DEPTH: usize = 64;

/// Reads `text` (lines ending in `\n`, as the document splitter gives them) if it is a block
/// mapping in the subset; `None` for an empty document as for anything else.
pub fn parse(text: &str) -> Option<ParsedDocument> {
    if !characters_in_subset(text) {
        return None;
    }
    // The text's last line ends in `\n`: what follows it is no line.
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut reader = Reader {
        lines: body.split('\n').collect(),
        next: 0,
        depth: 0,
    };
    let first = reader.peek()?;
    if first.content.starts_with('-') {
        return None;
    }
    let (fields, line, item_lines) = reader.mapping(first.indent, None)?;
    // Whatever is left (a line less indented than the first) is not part of one mapping.
    if reader.peek().is_some() {
        return None;
    }
    Some(ParsedDocument {
        line,
        value: Value::Object(fields),
        item_lines,
    })
}

/// No tabs, carriage returns or other control characters, and none of the characters YAML 1.1
/// reads as line breaks or byte-order marks: the subset's lines are plain `\n` lines.
fn characters_in_subset(text: &str) -> bool {
    if text
        .bytes()
        .any(|byte| byte < 0x20 && byte != b'\n' || byte == 0x7f)
    {
        return false;
    }
    text.is_ascii()
        || !text.chars().any(|c| {
            matches!(
                c,
                '\u{80}'
                    ..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        })
}

/// A line with content: its 0-based index, indentation and the text after it.
#[derive(Clone, Copy)]
struct Line<'a> {
    index: usize,
    indent: usize,
    content: &'a str,
}

impl Line<'_> {
    fn number(&self) -> u64 {
        self.index as u64 + 1
    }

    /// Whether the line is a sequence entry (`- …` or a lone `-`).
    fn is_entry(&self) -> bool {
        sequence_entry(self.content).is_some()
    }
}

/// The rest of a sequence entry after its `-` and the spaces that follow it, with their count.
fn sequence_entry(content: &str) -> Option<(usize, &str)> {
    let rest = content.strip_prefix('-')?;
    if rest.is_empty() {
        return Some((1, rest));
    }
    let trimmed = rest.trim_start_matches(' ');
    (trimmed.len() < rest.len()).then(|| (1 + rest.len() - trimmed.len(), trimmed))
}

struct Reader<'a> {
    lines: Vec<&'a str>,
    /// The first line not yet read.
    next: usize,
    depth: usize,
}

/// A mapping, the line of its first key and the lines of the items of its `items` sequence.
type MappingRead = (Map<String, Value>, u64, Vec<u64>);

impl<'a> Reader<'a> {
    /// The next line with content, past blank and comment lines (a block scalar reads those).
    fn peek(&self) -> Option<Line<'a>> {
        self.lines[self.next..]
            .iter()
            .enumerate()
            .find_map(|(offset, line)| {
                let content = line.trim_start_matches(' ');
                (!content.is_empty() && !content.starts_with('#')).then(|| Line {
                    index: self.next + offset,
                    indent: line.len() - content.len(),
                    content,
                })
            })
    }

    /// Reads up to and including `line`.
    fn consume(&mut self, line: Line) {
        self.next = line.index + 1;
    }

    /// A block mapping whose keys sit at `indent`. `first` is its first entry when that shares a
    /// line with a sequence's `-` (already read).
    fn mapping(&mut self, indent: usize, first: Option<Line<'a>>) -> Option<MappingRead> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut fields = Map::new();
        let mut first_line = None;
        let mut item_lines = Vec::new();
        let mut pending = first;
        loop {
            let line = match pending.take() {
                Some(line) => line,
                None => match self.peek() {
                    Some(line) if line.indent == indent && !line.is_entry() => {
                        self.consume(line);
                        line
                    }
                    Some(line) if line.indent > indent => return None,
                    // Less indented, or a sequence entry of the parent: the mapping is over.
                    _ => break,
                },
            };
            first_line.get_or_insert(line.number());
            let (key, rest) = split_key(line.content)?;
            let value = if is_empty_value(rest) {
                let (value, lines) = self.nested(indent, true)?;
                if key == "items" && self.depth == 1 {
                    item_lines = lines;
                }
                value
            } else {
                self.inline(rest, indent)?
            };
            if fields.insert(key.to_string(), value).is_some() {
                return None; // A duplicate key: serde-saphyr says so.
            }
        }
        self.depth -= 1;
        Some((fields, first_line?, item_lines))
    }

    /// A block sequence whose `-` sit at `indent`, with the line of each item.
    fn sequence(&mut self, indent: usize) -> Option<(Vec<Value>, Vec<u64>)> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut items = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent != indent {
                if line.indent > indent {
                    return None;
                }
                break;
            }
            let Some((width, rest)) = sequence_entry(line.content) else {
                break; // The parent mapping's next key, after a sequence at its keys' indent.
            };
            self.consume(line);
            let column = indent + width;
            // An item starts where its value does: below a lone `-`, on the next line.
            let item_line = match self.peek() {
                Some(below) if is_empty_value(rest) && below.indent > indent => below.number(),
                _ => line.number(),
            };
            lines.push(item_line);
            let item = if is_empty_value(rest) {
                self.nested(indent, false)?.0
            } else if rest.starts_with('-') && sequence_entry(rest).is_some() {
                return None; // `- - a`: left to serde-saphyr.
            } else if split_key(rest).is_some() && !rest.starts_with(['"', '\'']) {
                let entry = Line {
                    index: line.index,
                    indent: column,
                    content: rest,
                };
                Value::Object(self.mapping(column, Some(entry))?.0)
            } else {
                self.inline(rest, indent)?
            };
            items.push(item);
        }
        self.depth -= 1;
        Some((items, lines))
    }

    /// The value of a key or entry whose line ends after its `:` or `-`: the more indented block
    /// below it, a sequence at the key's own indent (only for a mapping's value), or null; with the
    /// line of each item when it is a sequence.
    fn nested(&mut self, indent: usize, in_mapping: bool) -> Option<(Value, Vec<u64>)> {
        let Some(line) = self.peek() else {
            return Some((Value::Null, Vec::new()));
        };
        let more_indented = line.indent > indent;
        if line.is_entry() && (more_indented || (in_mapping && line.indent == indent)) {
            let (items, lines) = self.sequence(line.indent)?;
            return Some((Value::Array(items), lines));
        }
        if !more_indented {
            return Some((Value::Null, Vec::new()));
        }
        // Not a key: a scalar on the next line, a multi-line plain scalar.
        split_key(line.content)?;
        let (fields, ..) = self.mapping(line.indent, None)?;
        Some((Value::Object(fields), Vec::new()))
    }

    /// A value on the same line as its key or `-`, which must not go on below `indent` (but for
    /// a literal block scalar, whose lines are below it).
    fn inline(&mut self, rest: &str, indent: usize) -> Option<Value> {
        if let Some(header) = rest.strip_prefix('|') {
            return self.literal(header, indent);
        }
        let value = scalar(rest)?;
        match self.peek() {
            Some(line) if line.indent > indent => None, // A continuation: left to serde-saphyr.
            _ => Some(value),
        }
    }
}

impl Reader<'_> {
    /// A literal block scalar (`|` or `|-`) below a key or entry at `indent`; its header's `|` is
    /// read. Its indentation is its first line's; keeping final line breaks (`|+`), an explicit
    /// indentation and folding (`>`) are left to serde-saphyr.
    fn literal(&mut self, header: &str, indent: usize) -> Option<Value> {
        let (strip, after) = match header.strip_prefix('-') {
            Some(after) => (true, after),
            None => (false, header),
        };
        let comment = after.trim_start_matches(' ');
        if !(comment.is_empty() || (comment.len() < after.len() && comment.starts_with('#'))) {
            return None;
        }
        let mut text = String::new();
        let mut content_indent = None;
        // Empty lines are written only when content follows them: the last line break is kept
        // (`|`) or not (`|-`), never the empty lines after it.
        let mut pending_breaks = 0;
        let mut leading_spaces = 0;
        while let Some(line) = self.lines.get(self.next) {
            let content = line.trim_start_matches(' ');
            let spaces = line.len() - content.len();
            // An empty line, unless it has spaces beyond the indentation (those are content).
            if content.is_empty() && content_indent.is_none_or(|at| spaces <= at) {
                if content_indent.is_none() {
                    leading_spaces = leading_spaces.max(spaces);
                }
                pending_breaks += 1;
                self.next += 1;
                continue;
            }
            let ends_here = match content_indent {
                None => spaces <= indent,
                Some(at) => spaces < at,
            };
            if ends_here {
                break;
            }
            let at = *content_indent.get_or_insert(spaces);
            for _ in 0..pending_breaks {
                text.push('\n');
            }
            pending_breaks = 0;
            text.push_str(&line[at..]);
            text.push('\n');
            self.next += 1;
        }
        // No content, or empty lines before it longer than its indentation: serde-saphyr decides.
        let at = content_indent?;
        if leading_spaces > at {
            return None;
        }
        if strip {
            text.pop();
        }
        Some(Value::String(text))
    }
}

/// Whether what follows a `:` or `-` is nothing, or only a comment.
fn is_empty_value(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with('#')
}

/// Splits `key: rest` at the first `:` followed by a space or the end of the line. Only plain keys
/// that serde-saphyr reads as the same string are taken.
fn split_key(content: &str) -> Option<(&str, &str)> {
    let bytes = content.as_bytes();
    let colon = (0..bytes.len())
        .find(|&at| bytes[at] == b':' && (at + 1 == bytes.len() || bytes[at + 1] == b' '))?;
    let key = content[..colon].trim_end_matches(' ');
    let plain = key
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'/'));
    let first = key.bytes().next()?;
    if !plain || !(first.is_ascii_alphanumeric() || first == b'_' || first == b'/') {
        return None;
    }
    if key.eq_ignore_ascii_case("null") {
        return None;
    }
    Some((key, content[colon + 1..].trim_start_matches(' ')))
}

/// A value written on one line: quoted, an empty flow collection, or a plain scalar.
fn scalar(rest: &str) -> Option<Value> {
    let (value, after) = match rest.as_bytes()[0] {
        b'"' => double_quoted(&rest[1..])?,
        b'\'' => single_quoted(&rest[1..])?,
        b'[' | b'{' => {
            let (value, after) = if let Some(after) = rest.strip_prefix("[]") {
                (Value::Array(Vec::new()), after)
            } else {
                (Value::Object(Map::new()), rest.strip_prefix("{}")?)
            };
            (value, after)
        }
        _ => return plain(rest),
    };
    // After a quoted scalar or a flow collection, only a comment may follow.
    let trailing = after.trim_start_matches(' ');
    (trailing.is_empty() || (trailing.len() < after.len() && trailing.starts_with('#')))
        .then_some(value)
}

fn single_quoted(text: &str) -> Option<(Value, &str)> {
    let mut value = String::new();
    let mut rest = text;
    loop {
        let quote = rest.find('\'')?;
        value.push_str(&rest[..quote]);
        rest = &rest[quote + 1..];
        match rest.strip_prefix('\'') {
            Some(after) => {
                value.push('\'');
                rest = after;
            }
            None => return Some((Value::String(value), rest)),
        }
    }
}

fn double_quoted(text: &str) -> Option<(Value, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((Value::String(value), &text[at + 1..])),
            '\\' => {
                let (_, escape) = chars.next()?;
                match escape {
                    '\\' | '"' | '/' => value.push(escape),
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    '0' => value.push('\0'),
                    'x' | 'u' => {
                        let digits = if escape == 'x' { 2 } else { 4 };
                        let mut code = 0;
                        for _ in 0..digits {
                            code = code * 16 + chars.next()?.1.to_digit(16)?;
                        }
                        value.push(char::from_u32(code)?);
                    }
                    _ => return None,
                }
            }
            _ => value.push(c),
        }
    }
    None // Not closed on this line: a multi-line scalar.
}

/// A plain scalar: up to a comment, resolved as serde-saphyr resolves it.
fn plain(rest: &str) -> Option<Value> {
    let first = rest.as_bytes()[0];
    // Indicators that start something else (anchors, tags, block scalars, …).
    if matches!(
        first,
        b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' | b'?' | b':' | b',' | b']' | b'}'
    ) {
        return None;
    }
    let text = match rest.find(" #") {
        Some(comment) => &rest[..comment],
        None => rest,
    }
    .trim_end_matches(' ');
    if text.contains(": ") || text.ends_with(':') || text == "-" {
        return None;
    }
    if is_plainly_a_string(text) {
        return Some(Value::String(text.to_string()));
    }
    if let Some(number) = decimal_integer(text) {
        return Some(number);
    }
    super::resolve_plain_scalar(text)
}

/// Words serde-saphyr reads as booleans or null, in any case.
const RESOLVED_WORDS: &[&str] = &["y", "yes", "n", "no", "true", "false", "on", "off", "null"];

/// Whether every YAML reading of `text` is the string itself: it starts with a letter, `/` or `_`
/// and is no boolean or null word, or it is `-` and a letter (`-c`, `--port=80`), or it starts
/// with a digit and holds a character no number has (`128Mi`, `100m`).
fn is_plainly_a_string(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes[0] {
        b'a'..=b'z' | b'A'..=b'Z' => !RESOLVED_WORDS
            .iter()
            .any(|word| text.eq_ignore_ascii_case(word)),
        b'/' | b'_' => true,
        b'-' => bytes
            .get(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'-'),
        b'0'..=b'9' => bytes.iter().any(|c| {
            !(c.is_ascii_hexdigit()
                || matches!(
                    c,
                    b'x' | b'X' | b'o' | b'O' | b'.' | b'_' | b'+' | b'-' | b':'
                ))
        }),
        _ => false,
    }
}

/// A decimal integer without a sign or leading zero that fits an `i64` for sure.
fn decimal_integer(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    if bytes.len() > 18 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return None; // Octal, in YAML 1.1.
    }
    text.parse::<u64>().ok().map(Value::from)
}

#[cfg(test)]
mod tests;
