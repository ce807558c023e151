//! Built-in metrics.

pub mod auc_lerf;
pub mod auc_lerf_max;
pub mod causal;
pub mod cluster_saliency;
pub mod complexity;
pub mod faithfulness;
pub mod ground_truth;
pub mod localisation;
pub mod max_box_acc;
pub mod normalisation;
pub mod pointing_game;
pub mod randomisation;
pub mod ranking;
pub mod relevance;
pub mod sensitivity;
pub mod structural_similarity;
