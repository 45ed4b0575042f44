//! The figment providers of the three layers above the defaults: the TOML file, the `JWT_*`
//! environment and the command-line flags. Each holds a plain [`Dict`] with metadata that
//! names where a value came from (`JWT_LEEWAY`, `--listen`, the file path), so an error can
//! say so in one sentence.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

use super::{Hint, KnownKeys, Overrides, RESERVED_ENV, TEST_ENV_PREFIX, env_name};
use crate::error::Error;

/// Metadata name of the environment layer.
pub(crate) const ENV_NAME: &str = "environment variable";
/// Metadata name of the flags layer.
pub(crate) const FLAG_NAME: &str = "command-line flag";

/// Values of one layer and where they came from.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    metadata: Metadata,
    dict: Dict,
}

impl Source {
    pub(crate) fn dict(&self) -> &Dict {
        &self.dict
    }
}

/// The config file.
#[derive(Debug, Clone)]
pub(crate) struct FileSource {
    path: PathBuf,
    source: Source,
}

impl FileSource {
    /// Read and parse `path`.
    pub(crate) fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "cannot read the config file {}: {}",
                path.display(),
                crate::error::one_line(&e.to_string())
            ))
        })?;
        if let Err(e) = toml::from_str::<toml::Table>(&text) {
            let line = e.span().map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            return Err(Error::config(format!(
                "the config file {} is not valid TOML{at}: {}",
                path.display(),
                crate::error::one_line(e.message())
            )));
        }
        let dict = Toml::string(&text)
            .data()
            .map_err(|e| Error::config(format!("the config file {} cannot be read: {e}", path.display())))?
            .remove(&Profile::Default)
            .unwrap_or_default();
        Ok(Self {
            path: path.to_path_buf(),
            source: Source { metadata: Metadata::from("TOML file", path), dict },
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn dict(&self) -> &Dict {
        self.source.dict()
    }
}

impl From<FileSource> for Source {
    fn from(value: FileSource) -> Self {
        value.source
    }
}

/// The `JWT_*` environment.
#[derive(Debug, Clone)]
pub(crate) struct EnvSource;

impl EnvSource {
    /// The known `JWT_*` variables as a layer, and the names of the unknown ones.
    pub(crate) fn from_env(known: &KnownKeys) -> (Source, Vec<String>) {
        let mut vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with("JWT_"))
            .collect();
        vars.sort();
        let mut dict = Dict::new();
        let mut unknown = Vec::new();
        for (name, raw) in vars {
            let path = name["JWT_".len()..].to_ascii_lowercase().replace("__", ".");
            match known.hint(&path) {
                Some(hint) => insert_path(&mut dict, &path, parse(hint, &raw)),
                None if RESERVED_ENV.contains(&name.as_str()) || name.starts_with(TEST_ENV_PREFIX) => {}
                None => unknown.push(name),
            }
        }
        let metadata =
            Metadata::named(ENV_NAME).interpolater(|_: &Profile, keys: &[&str]| env_name(&keys.join(".")));
        (Source { metadata, dict }, unknown)
    }
}

/// The command-line flags.
#[derive(Debug, Clone)]
pub(crate) struct FlagSource;

impl FlagSource {
    pub(crate) fn from_overrides(overrides: &Overrides) -> Source {
        let mut dict = Dict::new();
        if let Some(listen) = &overrides.listen {
            dict.insert("listen".into(), Value::from(listen.clone()));
        }
        if let Some(url) = &overrides.database_url {
            dict.insert("database_url".into(), Value::from(url.clone()));
        }
        if let Some(auto_migrate) = overrides.auto_migrate {
            dict.insert("auto_migrate".into(), Value::from(auto_migrate));
        }
        if let Some(format) = &overrides.log_format {
            dict.insert("log_format".into(), Value::from(format.clone()));
        }
        let metadata = Metadata::named(FLAG_NAME).interpolater(|_: &Profile, keys: &[&str]| {
            match keys.join(".").as_str() {
                "auto_migrate" => "--no-migrate".to_owned(),
                key => format!("--{}", key.replace('_', "-")),
            }
        });
        Source { metadata, dict }
    }
}

/// A layer restricted to some top-level keys.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    source: Source,
    keys: BTreeSet<String>,
}

impl Layer {
    pub(crate) fn new(source: impl Into<Source>, keys: BTreeSet<String>) -> Self {
        Self { source: source.into(), keys }
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        self.source.metadata.clone()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict: Dict = self
            .source
            .dict
            .iter()
            .filter(|(k, _)| self.keys.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Profile::Default.collect(dict))
    }
}

/// Turn an environment string into a value, the way the key expects it.
fn parse(hint: Hint, raw: &str) -> Value {
    match hint {
        Hint::Text => Value::from(raw.to_owned()),
        Hint::Scalar => {
            let Ok(value) = raw.trim().parse::<Value>();
            value
        }
        Hint::List if raw.trim_start().starts_with('[') => {
            let Ok(value) = raw.trim().parse::<Value>();
            value
        }
        Hint::List => Value::from(
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect::<Vec<_>>(),
        ),
    }
}

/// Insert `value` at a dotted `path`, creating tables on the way.
fn insert_path(dict: &mut Dict, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            dict.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = dict.entry(head.to_owned()).or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}
