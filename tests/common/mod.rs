//! Helpers shared by the integration tests.

use std::path::Path;

use serde_json::Value;

/// The base name of a path.
pub fn base(p: &str) -> String {
    Path::new(p)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The members of each story of a JSON report, as base names, in report order.
pub fn story_names(v: &Value) -> Vec<Vec<String>> {
    v["stories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["documents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| base(d["path"].as_str().unwrap()))
                .collect()
        })
        .collect()
}
