//! Lexer: turns FHIRPath text into tokens, each with the character offset where it starts.

use crate::error::ParseError;

/// One lexical token of FHIRPath.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// A plain identifier; keywords such as `and` or `true` are plain identifiers too, the parser decides.
    Identifier(String),
    /// A backtick-delimited identifier, never a keyword.
    DelimitedIdentifier(String),
    /// A single-quoted string with its escapes resolved.
    String(String),
    /// Digits with an optional fraction, kept as text so decimals stay exact.
    Number(String),
    /// The text after `@` of a date or dateTime literal, e.g. `2020-01-01T10:00Z`.
    DateTime(String),
    /// The text after `@T` of a time literal, e.g. `10:00`.
    Time(String),
    /// `$this`, `$index`, `$total` (the name without `$`).
    Dollar(String),
    /// `%name`, `%`name`` or `%'name'` (the name without `%` and quotes).
    External(String),
    Dot,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Plus,
    Minus,
    Star,
    Slash,
    Ampersand,
    Pipe,
    Equal,
    NotEqual,
    Tilde,
    NotTilde,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// Character offset of the token's first character.
    pub offset: usize,
}

/// Splits `text` into tokens, ending with [`TokenKind::Eof`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let mut lexer = Lexer { chars: text.chars().collect(), pos: 0 };
    let mut tokens = Vec::new();
    loop {
        lexer.skip_whitespace_and_comments()?;
        let offset = lexer.pos;
        let Some(c) = lexer.peek() else {
            tokens.push(Token { kind: TokenKind::Eof, offset });
            return Ok(tokens);
        };
        let kind = lexer.token(c)?;
        tokens.push(Token { kind, offset });
    }
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(self.pos, message)
    }

    fn skip_whitespace_and_comments(&mut self) -> Result<(), ParseError> {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() => self.pos += 1,
                (Some('/'), Some('/')) => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                (Some('/'), Some('*')) => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        match (self.peek(), self.peek_at(1)) {
                            (Some('*'), Some('/')) => {
                                self.pos += 2;
                                break;
                            }
                            (Some(_), _) => self.pos += 1,
                            (None, _) => return Err(ParseError::new(start, "unterminated comment")),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn token(&mut self, c: char) -> Result<TokenKind, ParseError> {
        let two = (c, self.peek_at(1));
        let (kind, width) = match two {
            ('!', Some('=')) => (TokenKind::NotEqual, 2),
            ('!', Some('~')) => (TokenKind::NotTilde, 2),
            ('<', Some('=')) => (TokenKind::LessOrEqual, 2),
            ('>', Some('=')) => (TokenKind::GreaterOrEqual, 2),
            ('.', _) => (TokenKind::Dot, 1),
            (',', _) => (TokenKind::Comma, 1),
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            ('[', _) => (TokenKind::LBracket, 1),
            (']', _) => (TokenKind::RBracket, 1),
            ('{', _) => (TokenKind::LBrace, 1),
            ('}', _) => (TokenKind::RBrace, 1),
            ('+', _) => (TokenKind::Plus, 1),
            ('-', _) => (TokenKind::Minus, 1),
            ('*', _) => (TokenKind::Star, 1),
            ('/', _) => (TokenKind::Slash, 1),
            ('&', _) => (TokenKind::Ampersand, 1),
            ('|', _) => (TokenKind::Pipe, 1),
            ('=', _) => (TokenKind::Equal, 1),
            ('~', _) => (TokenKind::Tilde, 1),
            ('<', _) => (TokenKind::Less, 1),
            ('>', _) => (TokenKind::Greater, 1),
            _ => return self.complex_token(c),
        };
        self.pos += width;
        Ok(kind)
    }

    /// Tokens longer than two characters: literals, identifiers and variables.
    fn complex_token(&mut self, c: char) -> Result<TokenKind, ParseError> {
        match c {
            '\'' => Ok(TokenKind::String(self.quoted('\'')?)),
            '`' => Ok(TokenKind::DelimitedIdentifier(self.quoted('`')?)),
            '@' => self.temporal(),
            '$' => {
                self.pos += 1;
                match self.peek() {
                    Some(c) if is_identifier_start(c) => Ok(TokenKind::Dollar(self.identifier())),
                    _ => Err(self.error("expected a variable name after '$'")),
                }
            }
            '%' => {
                self.pos += 1;
                match self.peek() {
                    Some(q @ ('`' | '\'')) => Ok(TokenKind::External(self.quoted(q)?)),
                    Some(c) if is_identifier_start(c) => Ok(TokenKind::External(self.identifier())),
                    _ => Err(self.error("expected a constant name after '%'")),
                }
            }
            c if c.is_ascii_digit() => Ok(TokenKind::Number(self.number())),
            c if is_identifier_start(c) => Ok(TokenKind::Identifier(self.identifier())),
            other => Err(self.error(format!("unexpected character {other:?}"))),
        }
    }

    fn identifier(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| is_identifier_start(c) || c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn number(&mut self) -> String {
        let start = self.pos;
        self.skip_digits();
        // A '.' belongs to the number only when digits follow: `1.toString()` is a call on 1.
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.skip_digits();
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A quoted string or delimited identifier, starting at the opening quote.
    fn quoted(&mut self, quote: char) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(ParseError::new(start, "unterminated quoted text"));
            };
            self.pos += 1;
            match c {
                c if c == quote => return Ok(text),
                '\\' => text.push(self.escape()?),
                c => text.push(c),
            }
        }
    }

    /// The character an escape sequence stands for; the backslash has been consumed.
    fn escape(&mut self) -> Result<char, ParseError> {
        let Some(c) = self.peek() else {
            return Err(self.error("unterminated escape sequence"));
        };
        self.pos += 1;
        Ok(match c {
            '\'' | '"' | '`' | '\\' | '/' => c,
            'f' => '\u{000C}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hex: String = self.chars.get(self.pos..self.pos + 4).unwrap_or_default().iter().collect();
                let code = (hex.len() == 4).then(|| u32::from_str_radix(&hex, 16).ok()).flatten();
                let decoded = code.and_then(char::from_u32);
                let Some(decoded) = decoded else {
                    return Err(self.error("invalid \\u escape: expected four hex digits of a character"));
                };
                self.pos += 4;
                decoded
            }
            other => {
                self.pos -= 1;
                return Err(self.error(format!("unknown escape sequence \\{other}")));
            }
        })
    }

    /// `@` date, dateTime or time literal: the text is validated and split by the temporal module.
    fn temporal(&mut self) -> Result<TokenKind, ParseError> {
        self.pos += 1;
        let start = self.pos;
        if self.peek() == Some('T') {
            self.pos += 1;
            let time_start = self.pos;
            self.time_format()?;
            let text = self.chars[time_start..self.pos].iter().collect();
            return Ok(TokenKind::Time(text));
        }
        if self.skip_digits() != 4 {
            return Err(self.error("expected a four-digit year after '@'"));
        }
        for _ in 0..2 {
            if self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
                if self.skip_digits() != 2 {
                    return Err(self.error("expected two digits in a date literal"));
                }
            }
        }
        if self.peek() == Some('T') {
            self.pos += 1;
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.time_format()?;
                self.timezone()?;
            }
        }
        Ok(TokenKind::DateTime(self.chars[start..self.pos].iter().collect()))
    }

    /// `HH(:mm(:ss(.fff)?)?)?`
    fn time_format(&mut self) -> Result<(), ParseError> {
        if self.skip_digits() != 2 {
            return Err(self.error("expected two-digit hours in a time literal"));
        }
        for _ in 0..2 {
            if self.peek() == Some(':') {
                self.pos += 1;
                if self.skip_digits() != 2 {
                    return Err(self.error("expected two digits in a time literal"));
                }
            }
        }
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.skip_digits();
        }
        Ok(())
    }

    /// `Z` or `(+|-)HH:mm` after a time; a '+' or '-' not followed by a digit is an operator instead.
    fn timezone(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            Some('Z') => self.pos += 1,
            Some('+' | '-') if self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => {
                self.pos += 1;
                if self.skip_digits() != 2 || self.peek() != Some(':') {
                    return Err(self.error("expected a timezone offset like +01:00"));
                }
                self.pos += 1;
                if self.skip_digits() != 2 {
                    return Err(self.error("expected a timezone offset like +01:00"));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn is_identifier_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// True for text that lexes as one plain identifier (used when printing identifiers back).
pub(crate) fn is_plain_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(is_identifier_start) && chars.all(|c| is_identifier_start(c) || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_keep_their_text_and_leave_method_dots_alone() {
        assert_eq!(
            kinds("1.50 1.x"),
            vec![
                TokenKind::Number("1.50".into()),
                TokenKind::Number("1".into()),
                TokenKind::Dot,
                TokenKind::Identifier("x".into()),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn temporal_literals_stop_before_operators() {
        assert_eq!(
            kinds("@2020-01-01T10:00:00+01:00 - @2020-01 @T10:30 @2015T"),
            vec![
                TokenKind::DateTime("2020-01-01T10:00:00+01:00".into()),
                TokenKind::Minus,
                TokenKind::DateTime("2020-01".into()),
                TokenKind::Time("10:30".into()),
                TokenKind::DateTime("2015T".into()),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn strings_resolve_escapes() {
        assert_eq!(kinds(r"'a\'b\u0041\n'")[0], TokenKind::String("a'bA\n".into()));
        assert!(tokenize(r"'a\q'").is_err());
        assert_eq!(tokenize("'abc").unwrap_err().offset, 0);
    }

    #[test]
    fn offsets_count_characters() {
        let tokens = tokenize("'é' = x").unwrap();
        assert_eq!(tokens[1].offset, 4);
        assert_eq!(tokens[2].offset, 6);
    }
}
