//! Dynamic plugins: shared libraries that add components at run time, admitted only after a
//! handshake proves they were built against this nas-core, with this ABI and this compiler.

use crate::error::{NasError, Result};
use crate::registry::{ComponentEntry, Origin, Registry};
use std::path::Path;

/// Bumped whenever the layout of [`PluginDeclaration`] or of the component traits (or the data
/// they exchange, such as [`BackboneInfo`](crate::BackboneInfo)) changes.
pub const ABI_VERSION: u32 = 11;
/// The nas-core version a plugin was compiled against, tagged `+cuda` when nas-core's `cuda`
/// feature is on: that feature adds a variant to [`Device`](crate::Device), which every
/// [`Context`](crate::Context) and tensor carries, so host and plugin must agree on it.
#[cfg(not(feature = "cuda"))]
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The nas-core version a plugin was compiled against, tagged `+cuda` when nas-core's `cuda`
/// feature is on: that feature adds a variant to [`Device`](crate::Device), which every
/// [`Context`](crate::Context) and tensor carries, so host and plugin must agree on it.
#[cfg(feature = "cuda")]
pub const CORE_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+cuda");
/// The compiler that built this nas-core.
pub const RUSTC_VERSION: &str = env!("NAS_RUSTC_VERSION");
/// Name of the static every plugin exports (see [`declare_plugin!`](crate::declare_plugin)).
pub const DECLARATION_SYMBOL: &[u8] = b"NAS_PLUGIN_DECLARATION\0";

/// A fixed-size, NUL-padded string that keeps the same layout whichever compiler reads it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FixedText(pub [u8; 64]);

impl FixedText {
    /// Copies up to 63 bytes of `text`.
    pub const fn new(text: &str) -> FixedText {
        let bytes = text.as_bytes();
        let mut out = [0u8; 64];
        let mut i = 0;
        while i < bytes.len() && i < 63 {
            out[i] = bytes[i];
            i += 1;
        }
        FixedText(out)
    }

    /// The text up to the first NUL.
    pub fn as_str(&self) -> String {
        let end = self.0.iter().position(|b| *b == 0).unwrap_or(self.0.len());
        String::from_utf8_lossy(&self.0[..end]).into_owned()
    }
}

/// Collects the components a plugin registers.
#[derive(Default)]
pub struct PluginRegistrar {
    entries: Vec<ComponentEntry>,
}

impl PluginRegistrar {
    /// Registers one component.
    pub fn add(&mut self, entry: ComponentEntry) {
        self.entries.push(entry);
    }

    /// The components registered so far.
    pub fn entries(&self) -> &[ComponentEntry] {
        &self.entries
    }
}

/// What a plugin exports. The C layout puts the version fields first so that the host can read
/// and check them before touching anything whose layout could differ.
#[repr(C)]
pub struct PluginDeclaration {
    /// [`ABI_VERSION`] as the plugin saw it.
    pub abi_version: u32,
    /// [`CORE_VERSION`] as the plugin saw it.
    pub core_version: FixedText,
    /// [`RUSTC_VERSION`] as the plugin saw it.
    pub rustc_version: FixedText,
    /// The plugin's name, for messages.
    pub name: FixedText,
    /// Registers the plugin's components; called only after the handshake succeeded.
    pub register: fn(&mut PluginRegistrar),
}

/// Declares a dynamic plugin: `nas_core::declare_plugin!("my-plugin", register);` where
/// `fn register(registrar: &mut nas_core::plugin::PluginRegistrar)`. Build the crate as a `cdylib`.
#[macro_export]
macro_rules! declare_plugin {
    ($name:expr, $register:path) => {
        #[no_mangle]
        pub static NAS_PLUGIN_DECLARATION: $crate::plugin::PluginDeclaration = $crate::plugin::PluginDeclaration {
            abi_version: $crate::plugin::ABI_VERSION,
            core_version: $crate::plugin::FixedText::new($crate::plugin::CORE_VERSION),
            rustc_version: $crate::plugin::FixedText::new($crate::plugin::RUSTC_VERSION),
            name: $crate::plugin::FixedText::new($name),
            register: $register,
        };
    };
}

/// Checks a declaration against this host; returns why it is refused, if it is.
pub fn check_handshake(abi_version: u32, core_version: &str, rustc_version: &str) -> std::result::Result<(), String> {
    if abi_version != ABI_VERSION {
        return Err(format!(
            "plugin ABI version {abi_version}, this nas expects {ABI_VERSION}; rebuild the plugin against nas-core {CORE_VERSION}"
        ));
    }
    if core_version != CORE_VERSION {
        return Err(format!(
            "built against nas-core {core_version}, this nas is {CORE_VERSION}; rebuild the plugin against nas-core {CORE_VERSION}"
        ));
    }
    if rustc_version != RUSTC_VERSION {
        return Err(format!("built with {rustc_version}, this nas was built with {RUSTC_VERSION}; Rust has no stable ABI, rebuild the plugin with the same compiler"));
    }
    Ok(())
}

impl Registry {
    /// Loads a plugin library and adds its components, refusing it if the handshake fails.
    /// Loaded libraries stay mapped for the rest of the process, since their code is referenced
    /// by the registry's entries.
    pub fn load_plugin(&mut self, path: &Path) -> Result<Vec<String>> {
        let refuse = |reason: String| NasError::Plugin {
            path: path.to_path_buf(),
            reason,
        };
        if !path.exists() {
            return Err(refuse("file not found".into()));
        }
        // SAFETY: loading a library runs its initialisers; plugins are code the user chose to run.
        let library = unsafe { libloading::Library::new(path) }.map_err(|e| refuse(format!("cannot load: {e}")))?;
        // SAFETY: the symbol is read as a `PluginDeclaration`, whose leading fields are plain
        // C-layout data; only after they match this host is the Rust function pointer used.
        let declaration: &PluginDeclaration = unsafe {
            let symbol = library
                .get::<*const PluginDeclaration>(DECLARATION_SYMBOL)
                .map_err(|_| refuse("no NAS_PLUGIN_DECLARATION symbol: not a nas plugin (use nas_core::declare_plugin!)".into()))?;
            let pointer: *const PluginDeclaration = *symbol;
            &*pointer
        };
        check_handshake(
            declaration.abi_version,
            &declaration.core_version.as_str(),
            &declaration.rustc_version.as_str(),
        )
        .map_err(|reason| refuse(format!("refused plugin `{}`: {reason}", declaration.name.as_str())))?;
        let mut registrar = PluginRegistrar::default();
        (declaration.register)(&mut registrar);
        let names = registrar
            .entries
            .iter()
            .map(|e| format!("{} {}", e.factory.kind(), e.name))
            .collect();
        for entry in registrar.entries {
            self.add(entry, Origin::Plugin(path.to_path_buf()));
        }
        std::mem::forget(library);
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_refuses_other_versions() {
        assert!(check_handshake(ABI_VERSION, CORE_VERSION, RUSTC_VERSION).is_ok());
        let err = check_handshake(ABI_VERSION + 1, CORE_VERSION, RUSTC_VERSION).unwrap_err();
        assert!(err.contains("ABI version"), "{err}");
        let err = check_handshake(ABI_VERSION, "0.0.1", RUSTC_VERSION).unwrap_err();
        assert!(err.contains("nas-core 0.0.1"), "{err}");
        let err = check_handshake(ABI_VERSION, CORE_VERSION, "rustc 1.0.0").unwrap_err();
        assert!(err.contains("same compiler"), "{err}");
    }

    #[test]
    fn fixed_text_round_trips() {
        assert_eq!(FixedText::new("nas-core").as_str(), "nas-core");
    }
}
