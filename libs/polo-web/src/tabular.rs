//! CSV with the same columns as the JSON items: nested values flattened
//! (`tags` as `key=value;key=value`, lists joined by `;`).

use serde::Serialize;
use serde_json::Value;

use crate::error::AppError;

/// Writes `items` as CSV under `columns` (the JSON item keys, in order).
pub fn to_csv<T: Serialize>(
    columns: &[&str],
    items: impl IntoIterator<Item = T>,
) -> Result<String, AppError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns).map_err(csv_error)?;
    let mut record: Vec<String> = Vec::with_capacity(columns.len());
    for item in items {
        let value = serde_json::to_value(&item).map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        record.clear();
        for column in columns {
            record.push(cell(value.get(*column).unwrap_or(&Value::Null)));
        }
        writer.write_record(&record).map_err(csv_error)?;
    }
    let bytes = writer.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("csv: {e}")))
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` calls
fn csv_error(e: csv::Error) -> AppError {
    AppError::Internal(format!("csv: {e}"))
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
        Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{k}={}", cell(v))).collect::<Vec<_>>().join(";")
        }
    }
}

/// A row that writes its own CSV cells, in its table's column order: the fast path for
/// large tables (no JSON in between).
pub trait CsvRow {
    /// Writes one cell per column.
    fn write_cells(&self, cells: &mut Cells<'_>);
}

impl<T: CsvRow + ?Sized> CsvRow for &T {
    fn write_cells(&self, cells: &mut Cells<'_>) {
        (**self).write_cells(cells);
    }
}

/// Writes the cells of one row, flattening as [`to_csv`] does.
pub struct Cells<'a> {
    writer: &'a mut csv::Writer<Vec<u8>>,
    scratch: String,
    error: Option<csv::Error>,
}

impl Cells<'_> {
    /// A text cell.
    pub fn text(&mut self, value: &str) {
        if self.error.is_none()
            && let Err(e) = self.writer.write_field(value)
        {
            self.error = Some(e);
        }
    }

    /// An optional text cell (empty when absent).
    pub fn maybe(&mut self, value: Option<&str>) {
        self.text(value.unwrap_or(""));
    }

    /// A cell of anything printable.
    pub fn display(&mut self, value: impl std::fmt::Display) {
        use std::fmt::Write as _;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let _ = write!(scratch, "{value}");
        self.text(&scratch);
        self.scratch = scratch;
    }

    /// An RFC 3339 time, as JSON writes it.
    pub fn time(&mut self, value: Option<time::OffsetDateTime>) {
        match value.map(|t| t.format(&time::format_description::well_known::Rfc3339)) {
            Some(Ok(text)) => self.text(&text),
            _ => self.text(""),
        }
    }

    /// `key=value;key=value`.
    pub fn pairs<'k>(&mut self, pairs: impl IntoIterator<Item = (&'k str, &'k str)>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for (i, (k, v)) in pairs.into_iter().enumerate() {
            if i > 0 {
                scratch.push(';');
            }
            scratch.push_str(k);
            scratch.push('=');
            scratch.push_str(v);
        }
        self.text(&scratch);
        self.scratch = scratch;
    }

    /// A list joined by `;`.
    pub fn list<'k>(&mut self, items: impl IntoIterator<Item = &'k str>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                scratch.push(';');
            }
            scratch.push_str(item);
        }
        self.text(&scratch);
        self.scratch = scratch;
    }
}

/// Writes `rows` as CSV under `columns`, each row writing its own cells.
pub fn rows_to_csv<R: CsvRow>(
    columns: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Result<String, AppError> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
    writer.write_record(columns).map_err(csv_error)?;
    let mut scratch = String::new();
    for row in rows {
        let mut cells = Cells { writer: &mut writer, scratch, error: None };
        row.write_cells(&mut cells);
        scratch = cells.scratch;
        if let Some(e) = cells.error {
            return Err(csv_error(e));
        }
        writer.write_record(std::iter::empty::<&[u8]>()).map_err(csv_error)?;
    }
    let bytes = writer.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_and_quotes() {
        let items = vec![
            serde_json::json!({"id": "a,b", "tags": {"k": "v", "x": "\"y\""}, "n": 3, "none": null, "list": ["p", "q"]}),
        ];
        let csv = to_csv(&["id", "tags", "n", "none", "list"], items).unwrap();
        assert_eq!(csv, "id,tags,n,none,list\n\"a,b\",\"k=v;x=\"\"y\"\"\",3,,p;q\n");
    }
}
