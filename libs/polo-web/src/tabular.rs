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
