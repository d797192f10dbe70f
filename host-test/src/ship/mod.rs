//! Shipping policy modules the way kwctl does: the metadata embedded in a module (`annotate`), the
//! Artifact Hub package description, and OCI registries (`push`, `pull`).

pub mod annotate;
pub mod artifacthub;
pub mod metadata;
pub mod registry;
