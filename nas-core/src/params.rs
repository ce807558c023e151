//! Component parameters: a TOML table read through typed getters that check names, types and ranges.

use crate::error::{NasError, Result};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// The type of a parameter, as shown by `nas list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// An integer.
    Int,
    /// A floating-point number.
    Float,
    /// true or false.
    Bool,
    /// A string (often one of a fixed set of choices).
    Str,
    /// A list of integers, written `[2, 3, 4]` in TOML or `2,3,4` on the command line.
    IntList,
    /// A list of numbers.
    FloatList,
    /// A nested component, written as a TOML table with a `name` key.
    Component,
    /// A list of strings, written `["a", "b"]` in TOML (one string is a list of one).
    StrList,
}

/// Describes one parameter of a component: its name, type, default and meaning.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// The TOML key.
    pub name: &'static str,
    /// Its type.
    pub kind: ParamKind,
    /// The default as it would be written in TOML ("" when required).
    pub default: &'static str,
    /// One line on what it does.
    pub doc: &'static str,
}

/// The parameters given to a component, with the component's name for error messages.
///
/// Every getter records the key it read; [`Params::finish`] then rejects keys nobody read, so a
/// typo such as `seeed = 1` is an error instead of being silently ignored.
#[derive(Debug)]
pub struct Params {
    component: String,
    table: toml::Table,
    read: Mutex<BTreeSet<String>>,
}

impl Clone for Params {
    fn clone(&self) -> Self {
        Params::new(self.component.clone(), self.table.clone())
    }
}

fn describe(value: &toml::Value) -> String {
    value.to_string()
}

impl Params {
    /// Wraps a TOML table of parameters for `component`.
    pub fn new(component: impl Into<String>, table: toml::Table) -> Self {
        Params {
            component: component.into(),
            table,
            read: Mutex::new(BTreeSet::new()),
        }
    }

    /// No parameters: every getter returns its default.
    pub fn empty(component: impl Into<String>) -> Self {
        Params::new(component, toml::Table::new())
    }

    /// Name of the component these parameters belong to.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// The raw table.
    pub fn table(&self) -> &toml::Table {
        &self.table
    }

    /// Sets `key` from a command-line string (`--param key=value`), parsed as a TOML value when
    /// possible (numbers, booleans, arrays) and as a plain string otherwise. `2,3,4` becomes a list.
    pub fn set_from_str(&mut self, key: &str, value: &str) {
        let parsed = parse_cli_value(value);
        self.table.insert(key.to_string(), parsed);
    }

    /// Like [`Params::set_from_str`], but `outer.inner` reaches the parameters of a nested
    /// component (`clusterer.seed=1` sets `seed` of the `clusterer` table).
    pub fn set_path_from_str(&mut self, path: &str, value: &str) {
        let Some((outer, inner)) = path.split_once('.') else {
            self.set_from_str(path, value);
            return;
        };
        let mut table = match self.table.remove(outer) {
            Some(toml::Value::Table(t)) => t,
            Some(toml::Value::String(name)) => toml::Table::from_iter([("name".to_string(), toml::Value::String(name))]),
            _ => toml::Table::new(),
        };
        let mut nested = Params::new(outer, table.clone());
        nested.set_path_from_str(inner, value);
        table = nested.table;
        self.table.insert(outer.to_string(), toml::Value::Table(table));
    }

    /// Sets `key` to a TOML value.
    pub fn set(&mut self, key: &str, value: toml::Value) {
        self.table.insert(key.to_string(), value);
    }

    /// Whether `key` was given.
    pub fn contains(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    fn mark(&self, key: &str) {
        if let Ok(mut read) = self.read.lock() {
            read.insert(key.to_string());
        }
    }

    /// An error about `key` holding `value`, saying what was expected.
    pub fn error(&self, key: &str, value: impl Into<String>, expected: impl Into<String>) -> NasError {
        NasError::Param {
            component: self.component.clone(),
            key: key.to_string(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    fn get(&self, key: &str) -> Option<&toml::Value> {
        self.mark(key);
        self.table.get(key)
    }

    /// An integer parameter within `[min, max]`.
    pub fn int(&self, key: &str, default: i64, min: i64, max: i64) -> Result<i64> {
        let v = match self.get(key) {
            None => return Ok(default),
            Some(toml::Value::Integer(i)) => *i,
            Some(other) => return Err(self.error(key, describe(other), "expected an integer")),
        };
        if v < min || v > max {
            return Err(self.error(key, v.to_string(), format!("expected an integer in [{min}, {max}]")));
        }
        Ok(v)
    }

    /// A non-negative integer parameter within `[min, max]`.
    pub fn usize(&self, key: &str, default: usize, min: usize, max: usize) -> Result<usize> {
        let v = self.int(key, default as i64, min as i64, max.min(i64::MAX as usize) as i64)?;
        Ok(v as usize)
    }

    /// A finite float parameter within `[min, max]` (integers are accepted).
    pub fn float(&self, key: &str, default: f64, min: f64, max: f64) -> Result<f64> {
        let v = match self.get(key) {
            None => return Ok(default),
            Some(toml::Value::Float(f)) => *f,
            Some(toml::Value::Integer(i)) => *i as f64,
            Some(other) => return Err(self.error(key, describe(other), "expected a number")),
        };
        if !v.is_finite() || v < min || v > max {
            return Err(self.error(key, v.to_string(), format!("expected a number in [{min}, {max}]")));
        }
        Ok(v)
    }

    /// A boolean parameter.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(other) => Err(self.error(key, describe(other), "expected true or false")),
        }
    }

    /// A string parameter that must be one of `choices`.
    pub fn choice(&self, key: &str, default: &str, choices: &[&str]) -> Result<String> {
        let v = match self.get(key) {
            None => return Ok(default.to_string()),
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => return Err(self.error(key, describe(other), format!("expected one of: {}", choices.join(", ")))),
        };
        if !choices.contains(&v.as_str()) {
            return Err(self.error(key, format!("\"{v}\""), format!("expected one of: {}", choices.join(", "))));
        }
        Ok(v)
    }

    /// An optional free-form string parameter.
    pub fn string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(key, describe(other), "expected a string")),
        }
    }

    /// A list of integers, each within `[min, max]`; a single integer is a list of one.
    pub fn int_list(&self, key: &str, default: &[i64], min: i64, max: i64) -> Result<Vec<i64>> {
        let values = match self.get(key) {
            None => return Ok(default.to_vec()),
            Some(toml::Value::Integer(i)) => vec![*i],
            Some(toml::Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        toml::Value::Integer(i) => out.push(*i),
                        _ => return Err(self.error(key, describe(&toml::Value::Array(items.clone())), "expected a list of integers")),
                    }
                }
                out
            }
            Some(other) => return Err(self.error(key, describe(other), "expected a list of integers")),
        };
        if values.is_empty() {
            return Err(self.error(key, "[]", "expected at least one integer"));
        }
        if let Some(bad) = values.iter().find(|v| **v < min || **v > max) {
            return Err(self.error(key, bad.to_string(), format!("expected integers in [{min}, {max}]")));
        }
        Ok(values)
    }

    /// A list of finite numbers, or `None` when absent.
    pub fn float_list(&self, key: &str) -> Result<Option<Vec<f64>>> {
        let items = match self.get(key) {
            None => return Ok(None),
            Some(toml::Value::Array(items)) => items,
            Some(toml::Value::Float(f)) => return Ok(Some(vec![*f])),
            Some(toml::Value::Integer(i)) => return Ok(Some(vec![*i as f64])),
            Some(other) => return Err(self.error(key, describe(other), "expected a list of numbers")),
        };
        items
            .iter()
            .map(|item| match item {
                toml::Value::Float(f) if f.is_finite() => Ok(*f),
                toml::Value::Integer(i) => Ok(*i as f64),
                other => Err(self.error(key, describe(other), "expected a list of finite numbers")),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// A list of strings (one string is a list of one), or `None` when absent.
    pub fn string_list(&self, key: &str) -> Result<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(self.error(key, describe(other), "expected a list of strings")),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(other) => Err(self.error(key, describe(other), "expected a list of strings")),
        }
    }

    /// A nested component table (`[segmenter.clusterer]` with a `name` key, or just a name string).
    /// Returns the component's name and its own parameters.
    pub fn component_param(&self, key: &str, default_name: &str) -> Result<(String, Params)> {
        match self.get(key) {
            None => Ok((default_name.to_string(), Params::empty(default_name))),
            Some(toml::Value::String(name)) => Ok((name.clone(), Params::empty(name.clone()))),
            Some(toml::Value::Table(table)) => {
                let mut table = table.clone();
                let name = match table.remove("name") {
                    None => default_name.to_string(),
                    Some(toml::Value::String(s)) => s,
                    Some(other) => return Err(self.error(&format!("{key}.name"), describe(&other), "expected a component name")),
                };
                Ok((name.clone(), Params::new(name, table)))
            }
            Some(other) => Err(self.error(key, describe(other), "expected a component name or a table with a `name` key")),
        }
    }

    /// Rejects keys that no getter asked for, listing the valid ones.
    pub fn finish(&self, specs: &[ParamSpec]) -> Result<()> {
        let read = self.read.lock().map(|r| r.clone()).unwrap_or_default();
        for (key, value) in &self.table {
            if !read.contains(key) {
                let valid: Vec<&str> = specs.iter().map(|s| s.name).collect();
                return Err(self.error(
                    key,
                    describe(value),
                    format!(
                        "unknown parameter; valid parameters: {}",
                        if valid.is_empty() { "(none)".to_string() } else { valid.join(", ") }
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn parse_cli_value(value: &str) -> toml::Value {
    let trimmed = value.trim();
    if let Ok(table) = format!("v = {trimmed}").parse::<toml::Table>() {
        if let Some(v) = table.get("v") {
            return v.clone();
        }
    }
    if trimmed.contains(',') {
        let parts: Vec<toml::Value> = trimmed.split(',').map(parse_cli_value).collect();
        return toml::Value::Array(parts);
    }
    toml::Value::String(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_values_are_typed() {
        let mut p = Params::empty("nas");
        p.set_from_str("k", "5");
        p.set_from_str("levels", "2,3,4");
        p.set_from_str("scale", "standardize");
        p.set_from_str("tol", "1e-4");
        assert_eq!(p.int("k", 1, 1, 10).unwrap(), 5);
        assert_eq!(p.int_list("levels", &[0], 0, 4).unwrap(), vec![2, 3, 4]);
        assert_eq!(p.choice("scale", "none", &["none", "standardize"]).unwrap(), "standardize");
        assert!((p.float("tol", 0.0, 0.0, 1.0).unwrap() - 1e-4).abs() < 1e-12);
    }

    #[test]
    fn bad_values_and_unknown_keys_are_named() {
        let mut p = Params::empty("kmeans");
        p.set_from_str("k", "0");
        p.set_from_str("seeed", "1");
        let err = p.int("k", 5, 1, 1000).unwrap_err().to_string();
        assert!(err.contains("`k`") && err.contains("[1, 1000]"), "{err}");
        let specs = [ParamSpec {
            name: "k",
            kind: ParamKind::Int,
            default: "5",
            doc: "",
        }];
        let err = p.finish(&specs).unwrap_err().to_string();
        assert!(err.contains("seeed") && err.contains("valid parameters: k"), "{err}");
    }

    #[test]
    fn dotted_paths_reach_nested_components() {
        let mut p = Params::empty("nas");
        p.set_from_str("clusterer", "kmeans");
        p.set_path_from_str("clusterer.seed", "3");
        let (name, nested) = p.component_param("clusterer", "ward").unwrap();
        assert_eq!(name, "kmeans");
        assert_eq!(nested.int("seed", 0, 0, 10).unwrap(), 3);
    }

    #[test]
    fn choice_lists_valid_values() {
        let mut p = Params::empty("nas");
        p.set_from_str("scale", "bogus");
        let err = p.choice("scale", "standardize", &["none", "standardize"]).unwrap_err().to_string();
        assert!(err.contains("none, standardize"), "{err}");
    }
}
