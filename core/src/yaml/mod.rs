//! YAML reading with line numbers.
//!
//! Fleet files and manifests are parsed into plain JSON values (the form the
//! renderer works on) together with a [`LineIndex`] that remembers, for every
//! JSON pointer inside a document, the line it came from. Every error about a
//! user's file can then name `file:line`, also for errors found long after
//! parsing (an unknown variable, a bad selector operator, …).

mod document;
mod node;

pub use document::{LineIndex, YamlDocument, YamlError, parse_documents, parse_single};
