//! A row as either backend gives it: its cells in column order, each of the type the database
//! holds. Areas take their values out by position (`Row::take`), each cell once.

use crate::StoreError;
use fhir_search::Scalar;

/// A value of a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Cell {
    fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "NULL",
            Cell::Int(_) => "an integer",
            Cell::Real(_) => "a real number",
            Cell::Text(_) => "text",
            Cell::Blob(_) => "bytes",
        }
    }
}

/// A row of cells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    cells: Vec<Cell>,
}

impl Row {
    pub(crate) fn new(cells: Vec<Cell>) -> Row {
        Row { cells }
    }

    /// The cell in `column` as a `T`, moved out of the row (a second take finds NULL).
    pub(crate) fn take<T: FromCell>(&mut self, column: usize) -> Result<T, StoreError> {
        let cell = self.cells.get_mut(column).map(|cell| std::mem::replace(cell, Cell::Null));
        let Some(cell) = cell else {
            return Err(StoreError::Corrupt(format!("a row of {} columns has no column {column}", self.cells.len())));
        };
        let found = cell.kind();
        T::from_cell(cell).ok_or_else(|| {
            StoreError::Corrupt(format!("column {column} holds {found}, where {} was expected", T::EXPECTED))
        })
    }
}

/// A Rust value a cell converts to.
pub(crate) trait FromCell: Sized {
    /// What the cell should hold, for the error when it does not.
    const EXPECTED: &'static str;
    fn from_cell(cell: Cell) -> Option<Self>;
}

impl FromCell for i64 {
    const EXPECTED: &'static str = "an integer";
    fn from_cell(cell: Cell) -> Option<i64> {
        match cell {
            Cell::Int(value) => Some(value),
            _ => None,
        }
    }
}

impl FromCell for bool {
    const EXPECTED: &'static str = "a boolean";
    fn from_cell(cell: Cell) -> Option<bool> {
        match cell {
            Cell::Int(value) => Some(value != 0),
            _ => None,
        }
    }
}

impl FromCell for String {
    const EXPECTED: &'static str = "text";
    fn from_cell(cell: Cell) -> Option<String> {
        match cell {
            Cell::Text(value) => Some(value),
            _ => None,
        }
    }
}

impl FromCell for Vec<u8> {
    const EXPECTED: &'static str = "bytes";
    fn from_cell(cell: Cell) -> Option<Vec<u8>> {
        match cell {
            Cell::Blob(value) => Some(value),
            _ => None,
        }
    }
}

impl FromCell for Scalar {
    const EXPECTED: &'static str = "an index cell";
    fn from_cell(cell: Cell) -> Option<Scalar> {
        match cell {
            Cell::Null => Some(Scalar::Null),
            Cell::Int(value) => Some(Scalar::Int(value)),
            Cell::Real(value) => Some(Scalar::Real(value)),
            Cell::Text(value) => Some(Scalar::Text(value)),
            Cell::Blob(_) => None,
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_cell(cell: Cell) -> Option<Option<T>> {
        match cell {
            Cell::Null => Some(None),
            cell => T::from_cell(cell).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cells_are_taken_as_their_type_and_a_mismatch_says_where() {
        let mut row = Row::new(vec![Cell::Int(7), Cell::Null, Cell::Text("a".into()), Cell::Blob(vec![1])]);
        assert_eq!(row.take::<i64>(0).unwrap(), 7);
        assert_eq!(row.take::<Option<String>>(1).unwrap(), None);
        assert_eq!(row.take::<String>(2).unwrap(), "a");
        assert_eq!(row.take::<Vec<u8>>(3).unwrap(), vec![1]);
        let error = Row::new(vec![Cell::Text("x".into())]).take::<i64>(0).unwrap_err().to_string();
        assert!(error.contains("column 0 holds text, where an integer was expected"), "{error}");
        assert!(Row::new(vec![]).take::<i64>(2).unwrap_err().to_string().contains("no column 2"));
        assert!(Row::new(vec![Cell::Null]).take::<i64>(0).is_err(), "NULL is no integer");
    }
}
