//! timm's key names for the same vision transformer (timm's `VisionTransformer`, which DeiT's
//! files and the original ViT files converted from JAX, such as `jx_vit_base_p16_224`, use):
//! mapped onto torchvision's, so one loader reads both. The two networks are the same: one
//! packed query-key-value projection, pre-LayerNorm blocks with epsilon 1e-6, exact GELU, the
//! class token's output classified.

/// torchvision's name for timm's `key`, or `None` when `key` is not in timm's layout.
pub fn torchvision_key(key: &str) -> Option<String> {
    let fixed = match key {
        "cls_token" => Some("class_token"),
        "pos_embed" => Some("encoder.pos_embedding"),
        "patch_embed.proj.weight" => Some("conv_proj.weight"),
        "patch_embed.proj.bias" => Some("conv_proj.bias"),
        "norm.weight" => Some("encoder.ln.weight"),
        "norm.bias" => Some("encoder.ln.bias"),
        "head.weight" => Some("heads.head.weight"),
        "head.bias" => Some("heads.head.bias"),
        _ => None,
    };
    if let Some(name) = fixed {
        return Some(name.to_string());
    }
    let rest = key.strip_prefix("blocks.")?;
    let (index, part) = rest.split_once('.')?;
    index.parse::<usize>().ok()?;
    let part = [
        ("norm1.", "ln_1."),
        ("attn.qkv.weight", "self_attention.in_proj_weight"),
        ("attn.qkv.bias", "self_attention.in_proj_bias"),
        ("attn.proj.", "self_attention.out_proj."),
        ("norm2.", "ln_2."),
        ("mlp.fc1.", "mlp.0."),
        ("mlp.fc2.", "mlp.3."),
    ]
    .iter()
    .find_map(|(timm, torchvision)| part.strip_prefix(timm).map(|tail| format!("{torchvision}{tail}")))?;
    Some(format!("encoder.layers.encoder_layer_{index}.{part}"))
}

#[cfg(test)]
mod tests {
    use super::torchvision_key;

    #[test]
    fn timm_keys_map_onto_torchvision_ones() {
        let pairs = [
            ("cls_token", "class_token"),
            ("pos_embed", "encoder.pos_embedding"),
            ("patch_embed.proj.weight", "conv_proj.weight"),
            ("blocks.0.norm1.weight", "encoder.layers.encoder_layer_0.ln_1.weight"),
            (
                "blocks.11.attn.qkv.bias",
                "encoder.layers.encoder_layer_11.self_attention.in_proj_bias",
            ),
            (
                "blocks.3.attn.proj.weight",
                "encoder.layers.encoder_layer_3.self_attention.out_proj.weight",
            ),
            ("blocks.3.mlp.fc2.bias", "encoder.layers.encoder_layer_3.mlp.3.bias"),
            ("head.weight", "heads.head.weight"),
        ];
        for (timm, torchvision) in pairs {
            assert_eq!(torchvision_key(timm).as_deref(), Some(torchvision), "{timm}");
        }
        for other in [
            "class_token",
            "encoder.ln.weight",
            "blocks.x.norm1.weight",
            "dist_token",
            "blocks.0.ls1.gamma",
        ] {
            assert_eq!(torchvision_key(other), None, "{other}");
        }
    }
}
