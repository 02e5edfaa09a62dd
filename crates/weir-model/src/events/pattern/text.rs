//! Case-insensitive string comparisons, as `equals-ignore-case` and the case-insensitive
//! `prefix`/`suffix` make them.
//!
//! Event Ruler accepts, at each character of the pattern, that character's lower-case or
//! upper-case form. We compare character by character the same way (a character matches when
//! the two are equal, or their lower cases are, or their upper cases are), which keeps the
//! comparison linear and never allocates.

fn same_char(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase()) || a.to_uppercase().eq(b.to_uppercase())
}

/// How many bytes of `value` a case-insensitive `pattern` covers from the start, if it does.
fn covered_from_start(value: &str, pattern: &str) -> Option<usize> {
    let mut values = value.char_indices();
    for p in pattern.chars() {
        let (_, v) = values.next()?;
        if !same_char(p, v) {
            return None;
        }
    }
    Some(values.next().map_or(value.len(), |(at, _)| at))
}

pub(crate) fn equals_ignore_case(value: &str, pattern: &str) -> bool {
    covered_from_start(value, pattern) == Some(value.len())
}

pub(crate) fn starts_with_ignore_case(value: &str, pattern: &str) -> bool {
    covered_from_start(value, pattern).is_some()
}

pub(crate) fn ends_with_ignore_case(value: &str, pattern: &str) -> bool {
    let mut values = value.chars().rev();
    pattern
        .chars()
        .rev()
        .all(|p| values.next().is_some_and(|v| same_char(p, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_case() {
        assert!(equals_ignore_case("Hello", "hELLO"));
        assert!(!equals_ignore_case("Hello!", "hello"));
        assert!(!equals_ignore_case("Hell", "hello"));
        assert!(equals_ignore_case("ÉTÉ", "été"));
        assert!(starts_with_ignore_case("AlphaBet", "alpha"));
        assert!(!starts_with_ignore_case("Alp", "alpha"));
        assert!(starts_with_ignore_case("x", ""));
        assert!(ends_with_ignore_case("file.PNG", ".png"));
        assert!(!ends_with_ignore_case("png", ".png"));
    }
}
