"""The place-recognition node answers on a small generated route: route images published as sensor_msgs/Image
(and CompressedImage) come back as a place index and a confidence; a burst is thinned to what the node can
sustain, dropping stale frames."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import rclpy
from sensor_msgs.msg import CompressedImage, Image
from snncontrol_ros import messages
from snncontrol_ros.graph import overrides
from std_msgs.msg import Float32, Float64MultiArray, Int32

vpr = pytest.importorskip("snncontrol.vpr")

PLACES = 6


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[np.ndarray]]:
    import torch

    from sim_envs.routes import generate_route
    from snncontrol.vpr import train
    from snncontrol.vpr.artifact import save_ensemble
    from snncontrol.vpr.config import ModuleConfig, TrainConfig
    from snncontrol.vpr.datasets.folders import load_folder
    from snncontrol.vpr.preprocess import preprocess

    root = tmp_path_factory.mktemp("vpr")
    route = generate_route(root / "route", PLACES, ["day"], seed=3, width=64, height=48, bags=None)
    images = list(load_folder(route / "day").images)
    ens, _ = train.train(torch.from_numpy(preprocess(images)), ModuleConfig(n_exc=100, present=100.0),
                         TrainConfig(epochs=1), seed=0)
    return save_ensemble(root / "ensemble", ens), images


def image_msg(pixels: np.ndarray, stamp_s: float) -> Image:
    msg = Image(height=pixels.shape[0], width=pixels.shape[1], encoding="rgb8", step=pixels.shape[1] * 3,
                data=np.ascontiguousarray(pixels, dtype=np.uint8).tobytes())
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp_s), int((stamp_s % 1) * 1e9)
    return msg


@pytest.mark.parametrize("image_type", ["raw", "compressed"])
def test_node_answers_with_place_and_confidence(context, spinner, ensemble, image_type):
    from snncontrol_ros.place_recognition_node import PlaceRecognitionNode

    path, images = ensemble
    node = spinner.add(PlaceRecognitionNode(context=context, parameter_overrides=overrides(
        {"matcher": str(path), "image_type": image_type, "image_topic": "camera/image", "max_age_s": 2.0,
         "sensor_reliability": "reliable"})))
    client = spinner.add(rclpy.create_node("camera", context=context))
    kind = Image if image_type == "raw" else CompressedImage
    pub = client.create_publisher(kind, "camera/image", messages.sensor_qos("reliable"))
    places, confidences, matches = [], [], []
    client.create_subscription(Int32, "place/index", lambda m: places.append(m.data), 10)
    client.create_subscription(Float32, "place/confidence", lambda m: confidences.append(m.data), 10)
    client.create_subscription(Float64MultiArray, "place/match", lambda m: matches.append(list(m.data)), 10)
    assert spinner.until(lambda: pub.get_subscription_count() > 0, 10.0)
    for k, pixels in enumerate(images):
        if image_type == "raw":
            msg = image_msg(pixels, 1.0 + k)
        else:
            from PIL import Image as PILImage

            buffer = io.BytesIO()
            PILImage.fromarray(pixels).save(buffer, format="PNG")
            msg = CompressedImage(format="png", data=buffer.getvalue())
            msg.header.stamp.sec = 1 + k
        pub.publish(msg)
        assert spinner.until(lambda k=k: len(matches) > k, 10.0), f"no answer to frame {k}"
    assert len(places) == len(confidences) == PLACES
    assert all(0 <= p < PLACES for p in places)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert [m[2] for m in matches] == pytest.approx([1.0 + k for k in range(PLACES)])
    expected = vpr.Matcher.load(path).query(np.stack(images))[0]
    assert places == expected.tolist()
    assert node.failed == 0


def test_a_burst_is_thinned_to_the_sustainable_rate(context, spinner, ensemble):
    from snncontrol_ros.place_recognition_node import PlaceRecognitionNode

    path, images = ensemble
    node = spinner.add(PlaceRecognitionNode(context=context, parameter_overrides=overrides(
        {"matcher": str(path), "image_topic": "camera/image", "max_age_s": 2.0, "sensor_reliability": "reliable",
         "mode": "spiking"})))  # the full spiking pass: slower than 1 kHz
    client = spinner.add(rclpy.create_node("camera", context=context))
    pub = client.create_publisher(Image, "camera/image", messages.sensor_qos("reliable"))
    assert spinner.until(lambda: pub.get_subscription_count() > 0, 10.0)
    matches: list[list[float]] = []
    client.create_subscription(Float64MultiArray, "place/match", lambda m: matches.append(list(m.data)), 10)
    for k in range(100):  # 1 kHz: faster than the matcher answers
        pub.publish(image_msg(images[k % PLACES], 1.0 + k * 0.001))
        spinner.spin_for(0.001)
    last = 1.0 + 99 * 0.001
    assert spinner.until(lambda: bool(matches) and matches[-1][2] == pytest.approx(last), 10.0), "newest frame"
    assert node.received >= 20
    assert node.processed + node.dropped + node.failed == node.received
    assert node.dropped >= 1 and node.processed < node.received


def bomb_png(width: int, height: int) -> bytes:
    """A small PNG whose header declares width x height pixels (a decompression bomb, never decoded here)."""
    import struct
    import zlib

    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("L", (1, 1)).save(buffer, format="PNG")
    png = bytearray(buffer.getvalue())
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


@pytest.mark.parametrize("image_type", ["raw", "compressed"])
def test_frames_it_cannot_use_are_skipped_and_the_node_answers_the_next(context, spinner, ensemble, image_type):
    """Empty, truncated, oversized (a compressed frame declaring 12,900 x 12,900 pixels is refused before it is
    decoded) or undecodable frames are counted as failed; rgba8 frames (as a bag may hold) are answered as the
    bag loader reads them."""
    from snncontrol_ros.place_recognition_node import PlaceRecognitionNode

    path, images = ensemble
    node = spinner.add(PlaceRecognitionNode(context=context, parameter_overrides=overrides(
        {"matcher": str(path), "image_type": image_type, "image_topic": "camera/image", "max_age_s": 2.0,
         "sensor_reliability": "reliable"})))
    client = spinner.add(rclpy.create_node("camera", context=context))
    pub = client.create_publisher(Image if image_type == "raw" else CompressedImage, "camera/image",
                                  messages.sensor_qos("reliable"))
    places: list[int] = []
    client.create_subscription(Int32, "place/index", lambda m: places.append(m.data), 10)
    assert spinner.until(lambda: pub.get_subscription_count() > 0, 10.0)
    pixels = images[2]
    if image_type == "raw":
        good = image_msg(pixels, 1.0)
        rgba = np.concatenate([pixels, np.full((*pixels.shape[:2], 1), 255, np.uint8)], axis=2)
        also_good = Image(height=48, width=64, encoding="rgba8", step=64 * 4, data=rgba.tobytes())
        bad = [Image(height=0, width=0, encoding="rgb8", step=0, data=b""),
               Image(height=48, width=64, encoding="rgb8", step=64 * 3, data=bytes(100)),  # truncated
               Image(height=48, width=64, encoding="rgb8", step=10, data=bytes(48 * 64 * 3)),  # step < width
               Image(height=100_000, width=100_000, encoding="mono8", step=100_000, data=bytes(10))]
    else:
        from PIL import Image as PILImage

        buffer = io.BytesIO()
        PILImage.fromarray(pixels).save(buffer, format="PNG")
        good = also_good = CompressedImage(format="png", data=buffer.getvalue())
        bad = [CompressedImage(format="png", data=bomb_png(12_900, 12_900)),
               CompressedImage(format="jpeg", data=b"\xff\xd8 not a jpeg"), CompressedImage(format="png", data=b"")]
    for msg in bad:
        failed = node.failed
        pub.publish(msg)
        assert spinner.until(lambda failed=failed: node.failed > failed, 10.0), f"{msg} was not refused"
    for msg in (good, also_good):
        count = len(places)
        pub.publish(msg)
        assert spinner.until(lambda count=count: len(places) > count, 10.0)
    assert places[-2:] == [vpr.Matcher.load(path).query(pixels[None])[0][0]] * 2
    assert node.failed == len(bad) and node.processed == 2


def test_a_node_that_hears_no_frame_says_why(context, spinner, ensemble, ros_domain_id):
    """A CompressedImage publisher on the topic of a node set to image_type raw: 0 frames, and not a word."""
    from snncontrol_ros.place_recognition_node import PlaceRecognitionNode

    path, _ = ensemble
    node = spinner.add(PlaceRecognitionNode(context=context, parameter_overrides=overrides(
        {"matcher": str(path), "image_topic": "camera/image"})))
    assert node.no_frames_warning() == "no frame on /camera/image (sensor_msgs/msg/Image) for 5 s"
    camera_context = rclpy.Context()  # (one participant cannot hold a topic of two types: a camera of its own)
    rclpy.init(context=camera_context, domain_id=ros_domain_id)
    try:
        camera = rclpy.create_node("camera", context=camera_context)
        camera.create_publisher(CompressedImage, "camera/image", messages.sensor_qos("best_effort"))
        expected = ("no frame on /camera/image (sensor_msgs/msg/Image) for 5 s; its publishers send "
                    "sensor_msgs/msg/CompressedImage (set image_type:=compressed)")
        assert spinner.until(lambda: node.no_frames_warning() == expected, 5.0), node.no_frames_warning()
        camera.destroy_node()
    finally:
        rclpy.try_shutdown(context=camera_context)


def test_an_empty_matcher_parameter_is_named(context):
    """It said "ensemble .: missing ensemble.json"."""
    from snncontrol_ros.place_recognition_node import PlaceRecognitionNode

    with pytest.raises(ValueError, match="matcher: give the ensemble artifact's directory"):
        PlaceRecognitionNode(context=context)
