//! `wildcard` patterns: `*` stands for any run of characters (none included); `\*` is a
//! literal star and `\\` a literal backslash. Any other escape, and two stars in a row, are
//! refused, as Event Ruler refuses them.

/// A checked wildcard pattern: the literal runs between its stars.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Wildcard {
    /// `stars + 1` literal runs; with no star, the one run must equal the whole value.
    runs: Vec<String>,
}

impl Wildcard {
    pub fn parse(text: &str) -> Result<Wildcard, String> {
        let mut runs = vec![String::new()];
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, escaped @ ('*' | '\\'))) => push(&mut runs, escaped),
                    // A position counts UTF-8 bytes of the pattern in quotes, as Event Ruler
                    // sees it, so the opening quote is position 0.
                    _ => return Err(format!("Invalid escape character at pos {}", at + 1)),
                },
                '*' => {
                    if chars.peek().is_some_and(|&(_, next)| next == '*') {
                        return Err(format!("Consecutive wildcard characters at pos {}", at + 1));
                    }
                    runs.push(String::new());
                }
                other => push(&mut runs, other),
            }
        }
        Ok(Wildcard { runs })
    }

    pub fn matches(&self, value: &str) -> bool {
        let (first, rest) = match self.runs.split_first() {
            Some(split) => split,
            None => return false,
        };
        let Some((last, middle)) = rest.split_last() else {
            return value == first;
        };
        if value.len() < first.len() + last.len()
            || !value.starts_with(first.as_str())
            || !value.ends_with(last.as_str())
        {
            return false;
        }
        // Between the fixed ends, each middle run taken at its leftmost place leaves the most
        // room for the ones after it, so a greedy scan decides it (no backtracking).
        let mut window = &value[first.len()..value.len() - last.len()];
        for run in middle {
            match window.find(run.as_str()) {
                Some(at) => window = &window[at + run.len()..],
                None => return false,
            }
        }
        true
    }
}

fn push(runs: &mut [String], c: char) {
    if let Some(run) = runs.last_mut() {
        run.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str) -> Wildcard {
        Wildcard::parse(text).unwrap_or(Wildcard { runs: Vec::new() })
    }

    #[test]
    fn matching() {
        assert!(w("*.png").matches("a/b.png"));
        assert!(w("*.png").matches(".png"));
        assert!(!w("*.png").matches("a.jpg"));
        assert!(w("dir/*/file").matches("dir/x/y/file"));
        assert!(w("a*b*c").matches("abc"));
        assert!(w("a*b*c").matches("axxbyybzc"));
        assert!(!w("a*b*c").matches("acb"));
        assert!(!w("ab*ba").matches("aba"));
        assert!(w("*").matches(""));
        assert!(w("plain").matches("plain"));
        assert!(!w("plain").matches("plainer"));
        assert!(w(r"a\*b").matches("a*b"));
        assert!(!w(r"a\*b").matches("axb"));
        assert!(w(r"a\\*").matches(r"a\zz"));
    }

    #[test]
    fn errors() {
        let err = |t: &str| Wildcard::parse(t).err().unwrap_or_default();
        assert_eq!(err("a**b"), "Consecutive wildcard characters at pos 2");
        assert_eq!(err(r"a\b"), "Invalid escape character at pos 2");
        assert_eq!(err(r"ab\"), "Invalid escape character at pos 3");
        assert_eq!(err(r"é\x"), "Invalid escape character at pos 3");
    }
}
