import numpy as np
import pytest

from snncontrol.vpr.errors import DatasetError
from snncontrol.vpr.preprocess import patch_normalize, preprocess, rescale, to_gray


def test_gray_is_itu_601_luma():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [100, 100, 100]]], dtype=np.uint8)
    assert to_gray(rgb).tolist() == [[76, 150, 29, 100]]


def test_patch_normalization_by_hand():
    image = np.arange(9, dtype=float).reshape(1, 3, 3)
    out = patch_normalize(image, 3)
    # centre pixel: window = all 9 values, mean 4, std sqrt(60/9)
    assert out[0, 1, 1] == pytest.approx(0.0)
    # corner (0, 0): window cut at the border = {0, 1, 3, 4}, mean 2, std sqrt(12.5 / 4 - ...) by hand
    values = np.array([0, 1, 3, 4.0])
    assert out[0, 0, 0] == pytest.approx((0 - values.mean()) / values.std())
    assert patch_normalize(np.full((1, 4, 4), 7.0), 3).tolist() == np.zeros((1, 4, 4)).tolist()


def test_rescale_and_pipeline():
    assert rescale(np.array([[[-1.0, 0.0], [1.0, 3.0]]])).tolist() == [[[0.0, 63.75], [127.5, 255.0]]]
    images = np.random.default_rng(0).integers(0, 256, size=(2, 40, 50, 3), dtype=np.uint8)
    out = preprocess(images)
    assert out.shape == (2, 784) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == pytest.approx(255.0)
    assert preprocess(np.zeros((1, 28, 28), np.uint8)).max() == 0.0


def test_bad_images():
    with pytest.raises(DatasetError, match="no images"):
        preprocess([])
    with pytest.raises(DatasetError, match="shape"):
        preprocess([np.zeros((4, 4, 5), np.uint8)])
