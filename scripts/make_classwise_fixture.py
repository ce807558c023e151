"""Reference for the class-wise clustering (nas-plugins/tests/classwise.rs): scikit-learn's
AgglomerativeClustering(linkage="ward") and KNeighborsClassifier (uniform weights), as the
paper uses them, on real NAS features written by `nas classwise`.

The features: ResNet18 (resnet18-seed0.pth) level 4, standardised, 4 x 4 sampled pixels per
photo, of the three STL-10-format photos (the model: 48 points, 4 clusters) and of the four
CUB-format test photos (the queries: 64 points), both from tests/fixtures/datasets:

    printf 'resize = "stretch"\n[dataset]\nformat = "stl10"\nroot = "tests/fixtures/datasets/stl10_binary"\n[backbone]\nname = "resnet18"\nweights = "/work/shared/weights/resnet18-seed0.pth"\n[segmenter]\nname = "nas"\nlevels = [4]\nk = 4\n' > /tmp/stl.toml
    (the same with format = "cub-200-2011" and root = ".../CUB_200_2011" in /tmp/cub.toml)
    nas classwise /tmp/stl.toml --clusters 4 --samples 4 --out model.safetensors
    nas classwise /tmp/cub.toml --clusters 4 --samples 4 --out queries.safetensors
    /work/venv-sklearn/bin/python scripts/make_classwise_fixture.py model.safetensors queries.safetensors OUT

Writes OUT/model.safetensors (a copy), OUT/queries.npy (float32), OUT/sklearn_ward.npy (Ward labels
of the model's points, int64) and OUT/sklearn_knn.npy (the 5-neighbour prediction for each query,
int64, trained on the model's points and its labels).
"""
import os
import shutil
import sys

import numpy as np
from safetensors.numpy import load_file
from sklearn.cluster import AgglomerativeClustering
from sklearn.neighbors import KNeighborsClassifier

model_path, queries_path, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
model = load_file(model_path)
queries = load_file(queries_path)["points"]
points, labels = model["points"], model["labels"].astype(np.int64)
ward = AgglomerativeClustering(n_clusters=4, linkage="ward").fit(points.astype(np.float64)).labels_
knn = KNeighborsClassifier(n_neighbors=5).fit(points, labels).predict(queries)
shutil.copy(model_path, os.path.join(out, "model.safetensors"))
np.save(os.path.join(out, "queries.npy"), queries.astype(np.float32))
np.save(os.path.join(out, "sklearn_ward.npy"), ward.astype(np.int64))
np.save(os.path.join(out, "sklearn_knn.npy"), knn.astype(np.int64))
print("ward sizes", np.bincount(ward), "ours", np.bincount(labels), "knn", np.bincount(knn, minlength=4))
