"""ROS 2 bag traversals (rosbag2 mcap or sqlite3, read with `rosbags`; no ROS install needed).

Images: `sensor_msgs/msg/Image` (encodings rgb8, bgr8, rgba8, bgra8, mono8) or `sensor_msgs/msg/CompressedImage`
(any format PIL decodes, at most `folders.MAX_PIXELS` pixels, read as an image file is: 16-bit grayscale by its
high byte, `folders.image_pixels`) on `topic`. Places are sampled
- every `every_s` seconds of bag time: the image nearest to t0, t0 + every_s, ...; or
- every `every_m` metres travelled, when `odom_topic` carries `nav_msgs/msg/Odometry` (pose.pose.position x,
  y in m) or `sensor_msgs/msg/NavSatFix` (latitude/longitude in degrees, projected to a local plane): the
  image nearest in travelled distance to 0, every_m, 2 every_m, ...;
- otherwise every image is a place. The same image is never taken twice. A first pass reads the stamps, a
  second deserializes and decodes only the chosen messages.
Positions that are not finite, and NavSatFix messages without a fix (status < 0), are skipped. Stamps are bag
receive times (ns), converted to s. A message that cannot be deserialized (cut short, another type's bytes) is a
DatasetError line naming its index on the topic, the topic and the bag.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.store import Typestore

from snncontrol.bags import deserialize, open_bag, topic_connections
from snncontrol.vpr.datasets import Transform, Traversal
from snncontrol.vpr.datasets.folders import check_size, image_pixels
from snncontrol.vpr.errors import DatasetError

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
POSITION_TYPES = ("nav_msgs/msg/Odometry", "sensor_msgs/msg/NavSatFix")
EARTH_RADIUS = 6_371_000.0  # m


def decode(msg: object, msgtype: str, where: str) -> np.ndarray:
    """uint8 [H, W] or [H, W, 3] RGB from an Image or CompressedImage message (decoded as an image file is:
    `folders.image_pixels`)."""
    if msgtype.endswith("CompressedImage"):
        try:
            with Image.open(io.BytesIO(bytes(msg.data))) as image:  # type: ignore[attr-defined]
                check_size(*image.size, where)
                return image_pixels(image, where)
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
            raise DatasetError(f"cannot decode compressed image {where}: {type(exc).__name__}") from None
    enc, h, w, step = msg.encoding, msg.height, msg.width, msg.step  # type: ignore[attr-defined]
    channels = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}.get(enc)
    data = np.frombuffer(msg.data, dtype=np.uint8)  # type: ignore[attr-defined]  (bytes, array.array, ndarray)
    if channels is None:
        raise DatasetError(f"unsupported image encoding {enc!r} {where} (rgb8, bgr8, rgba8, bgra8, mono8)")
    check_size(w, h, where)
    if step < w * channels or data.size < h * step:
        raise DatasetError(f"image {where} is truncated ({data.size} bytes for {h}x{w} {enc})")
    pixels = data[: h * step].reshape(h, step)[:, : w * channels].reshape(h, w, channels)
    if enc.startswith("bgr"):
        pixels = pixels[..., 2::-1]
    return pixels[..., 0] if channels == 1 else np.ascontiguousarray(pixels[..., :3])


def _positions(reader: Reader, store: Typestore, topic: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(stamps [K] s, xy [K, 2] m) from an Odometry or NavSatFix topic, without the messages whose position is not
    finite or, for NavSatFix, that have no fix (status < 0)."""
    conns = topic_connections(reader, topic, path, POSITION_TYPES, DatasetError)
    stamps, points = [], []
    for k, (conn, stamp, raw) in enumerate(reader.messages(connections=conns)):
        msg = deserialize(store, raw, conn.msgtype, k, topic, path, DatasetError)
        if conn.msgtype == "nav_msgs/msg/Odometry":
            point = (msg.pose.pose.position.x, msg.pose.pose.position.y)
        elif msg.status.status < 0:
            continue
        else:
            point = (msg.latitude, msg.longitude)
        if math.isfinite(point[0]) and math.isfinite(point[1]):
            points.append(point)
            stamps.append(stamp * 1e-9)
    if not points:
        raise DatasetError(f"topic {topic} in bag {path} has no message with a usable position (finite, with a fix)")
    xy = np.asarray(points, dtype=np.float64)
    if conns[0].msgtype == "sensor_msgs/msg/NavSatFix":
        lat0 = np.radians(xy[0, 0])
        xy = np.stack([np.radians(xy[:, 1] - xy[0, 1]) * np.cos(lat0), np.radians(xy[:, 0] - xy[0, 0])], 1)
        xy *= EARTH_RADIUS
    return np.asarray(stamps), xy


def _nearest(values: np.ndarray, every: float) -> np.ndarray:
    """Indices of the entries of the sorted `values` nearest to 0, every, 2 every, ... (no repeats); every entry
    where the marks would be denser than the entries."""
    if (values[-1] - values[0]) / every >= len(values):
        return np.arange(len(values))
    marks = values[0] + np.arange(0.0, values[-1] - values[0] + every / 2, every)
    pick = np.clip(np.searchsorted(values, marks), 1, len(values) - 1)
    pick -= (marks - values[pick - 1]) < (values[pick] - marks)
    return np.unique(pick)


def load_bag(
    path: str | Path,
    topic: str = "/camera/image_raw",
    every_s: float | None = None,
    every_m: float | None = None,
    odom_topic: str | None = None,
    transform: Transform | None = None,
) -> Traversal:
    """The traversal of the images on `topic` (see the module docstring for the sampling by `every_s` s or
    `every_m` m), each chosen image decoded and passed through `transform` one at a time. Two passes over the
    bag: the first reads only the stamps (s), the second deserializes and decodes only the chosen messages, so
    memory holds one raw message (or storage chunk) at a time and the kept (transformed) images."""
    path = Path(path)
    if every_s is not None and every_m is not None:
        raise DatasetError("sample by time (every_s) or by distance (every_m), not both")
    if every_m is not None and odom_topic is None:
        raise DatasetError("sampling by distance (every_m) needs an odometry or GNSS topic (odom_topic)")
    for name, value in (("every_s", every_s), ("every_m", every_m)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise DatasetError(f"the sampling interval {name} must be positive and finite, got {value}")
    reader = open_bag(path, DatasetError)
    store = get_typestore(Stores.ROS2_HUMBLE)
    try:
        conns = topic_connections(reader, topic, path, IMAGE_TYPES, DatasetError)
        stamps = np.asarray([stamp * 1e-9 for _, stamp, _ in reader.messages(connections=conns)])
        if not len(stamps):
            raise DatasetError(f"topic {topic} in bag {path} has no messages")
        if every_m is not None:
            t, xy = _positions(reader, store, odom_topic, path)  # type: ignore[arg-type]
            travelled = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))]
            keep = _nearest(np.interp(stamps, t, travelled), every_m)
        elif every_s is not None:
            keep = _nearest(stamps, every_s)
        else:
            keep = np.arange(len(stamps))
        chosen, images = set(keep.tolist()), []
        for k, (conn, _, raw) in enumerate(reader.messages(connections=conns)):
            if k in chosen:
                where = f"#{k} on {topic} in {path}"
                image = decode(deserialize(store, raw, conn.msgtype, k, topic, path, DatasetError), conn.msgtype, where)
                images.append(image if transform is None else transform(image))
                if len(images) == len(keep):
                    break
    finally:
        reader.close()
    return Traversal(str(path), images, [f"{stamps[k]:.6f}" for k in keep], [float(stamps[k]) for k in keep])
