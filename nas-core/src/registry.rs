//! The component registry: built-ins register themselves with `inventory`, dynamic plugins add
//! theirs at load time, and everything is created by name from TOML parameters.

use crate::backbone::Backbone;
use crate::component::{Clusterer, Metric, Saliency, Segmenter};
use crate::device::Device;
use crate::error::{NasError, Result};
use crate::params::{ParamSpec, Params};
use std::fmt;
use std::path::PathBuf;

/// The kinds of component, one per trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A [`Backbone`].
    Backbone,
    /// A [`Segmenter`].
    Segmenter,
    /// A [`Clusterer`].
    Clusterer,
    /// A [`Saliency`] method.
    Saliency,
    /// A [`Metric`].
    Metric,
}

impl Kind {
    /// Every kind, in the order `nas list` shows them.
    pub const ALL: [Kind; 5] = [Kind::Backbone, Kind::Segmenter, Kind::Clusterer, Kind::Saliency, Kind::Metric];
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Backbone => "backbone",
            Kind::Segmenter => "segmenter",
            Kind::Clusterer => "clusterer",
            Kind::Saliency => "saliency method",
            Kind::Metric => "metric",
        })
    }
}

/// What components are created with besides their parameters.
pub struct Context<'a> {
    /// The registry, so that a component can create the components it is made of.
    pub registry: &'a Registry,
    /// Where tensors live.
    pub device: Device,
    /// Where downloaded and user-supplied weight files are kept.
    pub cache_dir: PathBuf,
}

/// A constructor, typed by the trait it produces.
#[derive(Clone, Copy)]
pub enum Factory {
    /// Builds a backbone.
    Backbone(fn(&Params, &Context<'_>) -> Result<Box<dyn Backbone>>),
    /// Builds a segmenter.
    Segmenter(fn(&Params, &Context<'_>) -> Result<Box<dyn Segmenter>>),
    /// Builds a clusterer.
    Clusterer(fn(&Params, &Context<'_>) -> Result<Box<dyn Clusterer>>),
    /// Builds a saliency method.
    Saliency(fn(&Params, &Context<'_>) -> Result<Box<dyn Saliency>>),
    /// Builds a metric.
    Metric(fn(&Params, &Context<'_>) -> Result<Box<dyn Metric>>),
}

impl Factory {
    /// The kind of component this factory builds.
    pub fn kind(&self) -> Kind {
        match self {
            Factory::Backbone(_) => Kind::Backbone,
            Factory::Segmenter(_) => Kind::Segmenter,
            Factory::Clusterer(_) => Kind::Clusterer,
            Factory::Saliency(_) => Kind::Saliency,
            Factory::Metric(_) => Kind::Metric,
        }
    }
}

/// One registered component: its name, a one-line summary, its parameters and its constructor.
#[derive(Clone, Copy)]
pub struct ComponentEntry {
    /// The name used in TOML and on the command line.
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// Its parameters with defaults.
    pub params: &'static [ParamSpec],
    /// Its constructor.
    pub factory: Factory,
}

inventory::collect!(ComponentEntry);

/// Where an entry came from, for `nas list`.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Compiled into this binary.
    BuiltIn,
    /// Loaded from a shared library.
    Plugin(PathBuf),
}

/// All components available to a run.
pub struct Registry {
    entries: Vec<(ComponentEntry, Origin)>,
}

macro_rules! create_fn {
    ($fn_name:ident, $variant:ident, $trait:ident) => {
        /// Creates the named component from its parameters; unknown names list the valid ones and
        /// parameters nobody read are rejected.
        pub fn $fn_name(&self, name: &str, params: &Params, context: &Context<'_>) -> Result<Box<dyn $trait>> {
            let entry = self.entry(Kind::$variant, name)?;
            let Factory::$variant(build) = entry.factory else {
                return Err(self.unknown(Kind::$variant, name));
            };
            let component = build(params, context)?;
            params.finish(entry.params)?;
            Ok(component)
        }
    };
}

impl Registry {
    /// The built-in components of every crate linked into this binary.
    pub fn builtin() -> Registry {
        let mut entries: Vec<(ComponentEntry, Origin)> = inventory::iter::<ComponentEntry>
            .into_iter()
            .map(|e| (*e, Origin::BuiltIn))
            .collect();
        entries.sort_by_key(|(e, _)| (e.factory.kind(), e.name));
        Registry { entries }
    }

    /// Adds an entry; a later entry with the same kind and name replaces the earlier one.
    pub fn add(&mut self, entry: ComponentEntry, origin: Origin) {
        self.entries
            .retain(|(e, _)| !(e.name == entry.name && e.factory.kind() == entry.factory.kind()));
        self.entries.push((entry, origin));
        self.entries.sort_by_key(|(e, _)| (e.factory.kind(), e.name));
    }

    /// Every entry, grouped by kind.
    pub fn entries(&self) -> impl Iterator<Item = &(ComponentEntry, Origin)> {
        self.entries.iter()
    }

    /// Names registered for `kind`.
    pub fn names(&self, kind: Kind) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(e, _)| e.factory.kind() == kind)
            .map(|(e, _)| e.name.to_string())
            .collect()
    }

    /// The entry of `kind` called `name`.
    pub fn entry(&self, kind: Kind, name: &str) -> Result<&ComponentEntry> {
        self.entries
            .iter()
            .find(|(e, _)| e.factory.kind() == kind && e.name == name)
            .map(|(e, _)| e)
            .ok_or_else(|| self.unknown(kind, name))
    }

    fn unknown(&self, kind: Kind, name: &str) -> NasError {
        NasError::UnknownComponent {
            kind: kind.to_string(),
            name: name.to_string(),
            valid: self.names(kind),
        }
    }

    create_fn!(backbone, Backbone, Backbone);
    create_fn!(segmenter, Segmenter, Segmenter);
    create_fn!(clusterer, Clusterer, Clusterer);
    create_fn!(saliency, Saliency, Saliency);
    create_fn!(metric, Metric, Metric);
}
