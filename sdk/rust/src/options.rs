//! Instance options: the JSON object `tidemark_init` receives, already
//! validated against the manifest with its defaults filled in by the host.

use crate::json::{self, Value};
use crate::{Error, Status};

/// The options of one instance. Getters return the default when the option
/// is absent or has another type.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    v: Value,
}

impl Default for Options {
    fn default() -> Self {
        Options { v: Value::Object(Vec::new()) }
    }
}

impl Options {
    /// Parses the options object (empty input reads as `{}`).
    pub fn parse(b: &[u8]) -> Result<Options, Error> {
        if b.iter().all(|c| c.is_ascii_whitespace()) {
            return Ok(Options::default());
        }
        match json::parse(b) {
            Ok(v @ Value::Object(_)) => Ok(Options { v }),
            Ok(_) => Err(Error::with_status(Status::InvalidArgument, "options: not a JSON object".into())),
            Err(e) => Err(Error::with_status(Status::InvalidArgument, format!("options: {}", e))),
        }
    }

    /// The whole options object.
    pub fn value(&self) -> &Value {
        &self.v
    }

    /// The raw value of an option.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.v.get(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A number option.
    pub fn float(&self, name: &str, def: f64) -> f64 {
        self.get(name).and_then(Value::as_f64).unwrap_or(def)
    }

    /// A number option truncated toward zero (saturating).
    pub fn int(&self, name: &str, def: i64) -> i64 {
        self.get(name).and_then(Value::as_f64).map(|f| f as i64).unwrap_or(def)
    }

    /// A string option.
    pub fn string<'a>(&'a self, name: &str, def: &'a str) -> &'a str {
        self.get(name).and_then(Value::as_str).unwrap_or(def)
    }

    /// A bool option.
    pub fn bool(&self, name: &str, def: bool) -> bool {
        self.get(name).and_then(Value::as_bool).unwrap_or(def)
    }

    /// A `[]string` option (`None` if absent or not an array of strings).
    pub fn strings(&self, name: &str) -> Option<Vec<&str>> {
        let a = self.get(name)?.as_array()?;
        a.iter().map(Value::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getters_and_defaults() {
        let o = Options::parse(
            br#"{"field":"sum_bytes","threshold":2.5,"n":-7.9,"on":true,"tags":["a","b"],"mixed":["a",1]}"#,
        )
        .unwrap();
        assert_eq!(o.string("field", "x"), "sum_bytes");
        assert_eq!(o.string("absent", "x"), "x");
        assert_eq!(o.string("threshold", "x"), "x"); // wrong type: default
        assert_eq!(o.float("threshold", 3.0), 2.5);
        assert_eq!(o.float("absent", 3.0), 3.0);
        assert_eq!(o.int("n", 0), -7);
        assert!(o.bool("on", false));
        assert!(!o.bool("absent", false));
        assert_eq!(o.strings("tags"), Some(vec!["a", "b"]));
        assert_eq!(o.strings("mixed"), None);
        assert!(o.has("on") && !o.has("off"));
        assert_eq!(Options::parse(b"").unwrap(), Options::default());
        assert!(Options::parse(b"[1]").is_err());
        assert!(Options::parse(b"{").is_err());
    }
}
