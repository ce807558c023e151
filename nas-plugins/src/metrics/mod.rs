//! Built-in metrics.

pub mod auc_lerf;
pub mod auc_lerf_max;
pub mod max_box_acc;
