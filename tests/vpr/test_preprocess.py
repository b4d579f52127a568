import numpy as np
import pytest

from snncontrol.vpr.errors import DatasetError
from snncontrol.vpr.preprocess import patch_normalize, preprocess, to_gray, to_intensity


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


def test_the_reference_map_clips_to_one_std_and_maps_to_0_255():
    assert to_intensity(np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 7.0])).tolist() == [0, 0, 63, 127, 191, 255, 255]


def test_an_outlier_pixel_by_hand():
    """8 pixels of 10 and one of 250 (3 x 3 windows, cut at the border), worked out by hand: where a window holds
    the outlier and n - 1 equal pixels, each of those is -1/sqrt(n - 1) std from the window mean."""
    image = np.full((1, 3, 3), 10, np.uint8)
    image[0, 2, 2] = 250
    out = preprocess(image, size=3, patch=3).reshape(3, 3)
    centre = np.floor(255 * (1 - 1 / np.sqrt(8)) / 2)  # 82: window of 9
    edge = np.floor(255 * (1 - 1 / np.sqrt(5)) / 2)  # 70: window of 6 beside the outlier
    # flat windows (std 0) are their mean, 127; the outlier is over 1 std above its 2 x 2 window: 255
    assert out.tolist() == [[127, 127, 127], [127, centre, edge], [127, edge, 255]]


def test_a_bright_pixel_changes_only_its_own_neighbourhood():
    """A lamp in the image must not squash the rest of it (as a per-image min-max rescale did)."""
    images = np.random.default_rng(0).integers(60, 120, size=(1, 28, 28), dtype=np.uint8)
    lit = images.copy()
    lit[0, 5, 5] = 255
    before, after = (preprocess(x, size=28, patch=7).reshape(28, 28) for x in (images, lit))
    changed = np.argwhere(before != after)
    assert len(changed) and np.abs(changed - 5).max() <= 3  # only pixels whose 7 x 7 window holds the lamp


def test_pipeline_shape_and_range():
    images = np.random.default_rng(0).integers(0, 256, size=(2, 40, 50, 3), dtype=np.uint8)
    out = preprocess(images)
    assert out.shape == (2, 784) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 255.0 and (out == np.floor(out)).all()
    assert (preprocess(np.zeros((1, 28, 28), np.uint8)) == 127.0).all()  # a flat image: every pixel its mean


def test_preprocessing_in_chunks_changes_nothing():
    images = np.random.default_rng(1).integers(0, 256, (13, 20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(preprocess(images, chunk=4), preprocess(images, chunk=100))


def test_bad_images():
    with pytest.raises(DatasetError, match="no images"):
        preprocess([])
    with pytest.raises(DatasetError, match="shape"):
        preprocess([np.zeros((4, 4, 5), np.uint8)])
