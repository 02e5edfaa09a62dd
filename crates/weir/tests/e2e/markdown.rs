//! Reading the docs' Markdown: fenced code blocks and the shell words of a command line.

/// A fenced code block: its info string and its text (without the fence's indentation).
pub struct Block {
    pub info: String,
    pub text: String,
    pub line: usize,
}

impl Block {
    pub fn language(&self) -> &str {
        self.info.split_whitespace().next().unwrap_or("")
    }

    /// The value of `key=value` in the info string.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.info
            .split_whitespace()
            .skip(1)
            .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
    }
}

/// Every ``` fenced block of a Markdown text, including blocks indented inside list items.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Block)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let block = Block {
                        info: info.trim().to_string(),
                        text: String::new(),
                        line: n + 1,
                    };
                    open = Some((indent, block));
                }
            }
            Some((fence_indent, mut block)) => {
                if trimmed.trim_end() == "```" {
                    out.push(block);
                } else {
                    let strip = fence_indent.min(line.len() - line.trim_start().len());
                    block.text.push_str(&line[strip..]);
                    block.text.push('\n');
                    open = Some((fence_indent, block));
                }
            }
        }
    }
    assert!(open.is_none(), "an unclosed code block in the docs");
    out
}

/// Splits a shell command line into words: quotes, backslashes and trailing `# comments`.
/// Stops at `&&`, `||`, `|` and `;` (one command per line is what the docs show).
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            word.push(chars.next().unwrap_or('\\'))
                        }
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '#' if !in_word => break,
            ';' | '|' | '&' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}
