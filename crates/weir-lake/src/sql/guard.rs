//! A limit on how long a chain of operators a statement may hold. The parser builds
//! `a + b + c + …`, `x OR y OR …`, long JOIN and UNION chains without recursion, but DataFusion then walks
//! (and clones) the resulting trees recursively, and a few thousand links overflow a thread's
//! stack — a crash no error can report. Nesting (parentheses, function calls) is bounded by the
//! parser's recursion limit instead.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use super::SqlError;

/// Binary operators and JOIN/UNION links allowed in one statement: far above hand-written SQL,
/// well below what overflows a 2 MiB stack in a debug build.
pub const MAX_LINKS: usize = 500;

/// Fails when a statement of `sql` has more than [`MAX_LINKS`] operators, placing the error at
/// the first one past the limit. Text that does not tokenize passes (the parser reports it).
pub fn check_links(sql: &str) -> Result<(), SqlError> {
    let dialect = GenericDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize_with_location() else {
        return Ok(());
    };
    let mut links = 0usize;
    for token in tokens {
        let is_link = match &token.token {
            Token::SemiColon => {
                links = 0;
                false
            }
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::DoubleEq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Spaceship => true,
            Token::Word(w) => matches!(
                w.keyword,
                Keyword::AND
                    | Keyword::OR
                    | Keyword::XOR
                    | Keyword::JOIN
                    | Keyword::UNION
                    | Keyword::INTERSECT
                    | Keyword::EXCEPT
            ),
            _ => false,
        };
        if is_link {
            links += 1;
            if links > MAX_LINKS {
                let at = token.span.start;
                return Err(SqlError::at(
                    format!(
                        "statement too complex: more than {MAX_LINKS} operators, joins or unions \
                         in one statement (for long OR lists, use IN (…))"
                    ),
                    at.line,
                    at.column,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_chains_are_refused_with_a_position() {
        assert!(check_links("SELECT 1 + 2 AND x = 'a + b'").is_ok());
        let sql = format!("SELECT 1{}", " + 1".repeat(MAX_LINKS + 1));
        let err = check_links(&sql).expect_err("too long");
        assert_eq!(err.line, Some(1));
        // Each statement has its own budget.
        let half = format!("SELECT 1{};", " + 1".repeat(MAX_LINKS - 1));
        assert!(check_links(&half.repeat(3)).is_ok());
    }
}
