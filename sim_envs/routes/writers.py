"""Writers of a rendered traversal: an image folder (PNGs + poses.csv) and a ROS 2 bag (rosbags, no ROS).

Bag: `sensor_msgs/msg/Image` (rgb8) on `/camera/image_raw` and `nav_msgs/msg/Odometry` on `/odom`, one of each
per frame with the same stamp (header stamp = bag timestamp, ns); odometry pose in m (x, y) and yaw as a
quaternion about z, frame `map` -> `base_link`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from sim_envs.routes.render import Pose

IMAGE_TOPIC, ODOM_TOPIC = "/camera/image_raw", "/odom"
START_NS = 1_700_000_000 * 10**9  # stamp of the first frame (ns), fixed so that bags are reproducible
POSES_HEADER = ("place", "x", "y", "yaw", "time")  # m, m, rad, s
BAG_STORAGES = ("mcap", "sqlite3")


def write_frame(folder: Path, pose: Pose, frame: np.ndarray) -> None:
    """Write one frame as `folder/<place:06d>.png`."""
    PILImage.fromarray(frame).save(folder / f"{pose.place:06d}.png", optimize=False, compress_level=1)


def write_poses(folder: Path, poses: list[Pose]) -> None:
    """Write `folder/poses.csv`: place, x (m), y (m), yaw (rad), time (s since the first frame)."""
    with open(folder / "poses.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(POSES_HEADER)
        for p in poses:
            writer.writerow([p.place, f"{p.x:.4f}", f"{p.y:.4f}", f"{p.yaw:.5f}", f"{p.time:.4f}"])


class BagWriter:
    """Streams frames and poses into a rosbag2 directory (mcap by default, or sqlite3). Needs the optional
    ``rosbags`` package (the ``ros`` extra), imported here so that routes without bags do without it."""

    def __init__(self, path: Path, storage: str = "mcap") -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer
        from rosbags.typesys import Stores, get_typestore

        self.store = get_typestore(Stores.ROS2_HUMBLE)
        plugin = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}[storage]
        self.writer = Writer(path, version=8, storage_plugin=plugin)
        self.writer.open()
        self.image = self.writer.add_connection(IMAGE_TOPIC, "sensor_msgs/msg/Image", typestore=self.store)
        self.odom = self.writer.add_connection(ODOM_TOPIC, "nav_msgs/msg/Odometry", typestore=self.store)

    def _header(self, stamp: int, frame_id: str) -> object:
        t = self.store.types
        return t["std_msgs/msg/Header"](
            stamp=t["builtin_interfaces/msg/Time"](sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id=frame_id
        )

    def write(self, pose: Pose, frame: np.ndarray) -> None:
        t = self.store.types
        stamp = START_NS + round(pose.time * 1e9)
        height, width = frame.shape[:2]
        image = t["sensor_msgs/msg/Image"](
            header=self._header(stamp, "camera"),
            height=height,
            width=width,
            encoding="rgb8",
            is_bigendian=0,
            step=3 * width,
            data=np.ascontiguousarray(frame, dtype=np.uint8).reshape(-1),
        )
        vec = t["geometry_msgs/msg/Vector3"]
        odom = t["nav_msgs/msg/Odometry"](
            header=self._header(stamp, "map"),
            child_frame_id="base_link",
            pose=t["geometry_msgs/msg/PoseWithCovariance"](
                pose=t["geometry_msgs/msg/Pose"](
                    position=t["geometry_msgs/msg/Point"](x=pose.x, y=pose.y, z=0.0),
                    orientation=t["geometry_msgs/msg/Quaternion"](
                        x=0.0, y=0.0, z=float(np.sin(pose.yaw / 2)), w=float(np.cos(pose.yaw / 2))
                    ),
                ),
                covariance=np.zeros(36),
            ),
            twist=t["geometry_msgs/msg/TwistWithCovariance"](
                twist=t["geometry_msgs/msg/Twist"](linear=vec(x=0.0, y=0.0, z=0.0), angular=vec(x=0.0, y=0.0, z=0.0)),
                covariance=np.zeros(36),
            ),
        )
        self.writer.write(self.image, stamp, self.store.serialize_cdr(image, "sensor_msgs/msg/Image"))
        self.writer.write(self.odom, stamp, self.store.serialize_cdr(odom, "nav_msgs/msg/Odometry"))

    def close(self) -> None:
        self.writer.close()
