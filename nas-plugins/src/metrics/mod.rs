//! Built-in metrics.

pub mod auc_lerf;
