"""Place-recognition node: camera images in, the matched place index and its confidence out.

Subscribes `image_topic` (sensor_msgs/Image, rgb8/bgr8/rgba8/bgra8/mono8; or sensor_msgs/CompressedImage with
image_type:=compressed, decoded with Pillow), best effort keep-last-1. Frames are decoded as `vpr train` reads a
bag (`snncontrol.vpr.datasets.bags.decode`: the same encodings; 1 to `MAX_PIXELS` pixels, checked before a
compressed frame is decoded; a truncated frame is skipped). A worker thread always takes the newest
frame, so the node answers at the rate it can sustain: frames replaced before they were processed, or older
than `max_age_s` when the worker gets to them, are dropped (and counted). For each processed frame it
publishes `place/index` (std_msgs/Int32) and `place/confidence` (std_msgs/Float32), and
`place/match` (std_msgs/Float64MultiArray [index, confidence, frame stamp s, latency s]). A frame's age and latency
run from its arrival at the node (steady clock), not from its stamp (the camera's clock need not be the node's).
Without a frame for `NO_FRAMES_WARN_S` the node warns, naming the publishers of the topic that send another type
(e.g. CompressedImage where image_type is raw).

The matcher is `snncontrol.vpr.Matcher` on an ensemble artifact (`matcher.query(images uint8 [B,H,W] or
[B,H,W,3]) -> (place_index [B], confidence [B])`). A parameter the node does not declare (a misspelt name), an
image_type other than raw or compressed, a max_age_s out of range or a matcher that cannot be loaded stops it at
start, in one line.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Float32, Float64MultiArray, Int32

from snncontrol.vpr.datasets.bags import decode
from snncontrol_ros import messages
from snncontrol_ros.runtime import check_declared, declare, fixed_at_start, run_node


def load_matcher(path: str, mode: str = "rate") -> Any:
    """The matcher of a `snncontrol.vpr` ensemble artifact (`snncontrol.vpr.Matcher.load`)."""
    from snncontrol.vpr import Matcher

    return Matcher.load(path, mode=mode)


#: s without a frame after which the node warns (again every as many s while none comes)
NO_FRAMES_WARN_S = 5.0
#: image_type -> (the subscription's message class, its type name for `decode`)
MESSAGE_TYPES = {"raw": (Image, "sensor_msgs/msg/Image"),
                 "compressed": (CompressedImage, "sensor_msgs/msg/CompressedImage")}


class PlaceRecognitionNode(Node):
    def __init__(self, node_name: str = "place_recognition", matcher: Any = None, **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        path = declare(self, "matcher", "", "snncontrol.vpr ensemble artifact (directory)")
        mode = declare(self, "mode", "rate",
                       "matcher pass: rate (fast) | spiking (the spiking network, regular input) | poisson")
        kind = declare(self, "image_type", "raw", "raw (sensor_msgs/Image) | compressed (sensor_msgs/CompressedImage)")
        topic = declare(self, "image_topic", "camera/image_raw", "image topic")
        self.max_age_s = declare(self, "max_age_s", 0.5, "drop frames older than this when processing starts (s)",
                                 low=0.001, high=3600.0)  # (0 dropped every frame, silently)
        reliability = declare(self, "sensor_reliability", "best_effort", "image QoS: best_effort | reliable")
        check_declared(self)  # a misspelt parameter (image_topc) ran on the default topic, silently
        if kind not in MESSAGE_TYPES:
            raise ValueError(f"image_type must be raw or compressed, got {kind!r}")
        if matcher is None and not path:
            raise ValueError("matcher: give the ensemble artifact's directory (the parameter is empty)")
        self.matcher = matcher if matcher is not None else load_matcher(path, mode)
        self.index_pub = self.create_publisher(Int32, "place/index", 10)
        self.confidence_pub = self.create_publisher(Float32, "place/confidence", 10)
        self.match_pub = self.create_publisher(Float64MultiArray, "place/match", 10)
        msg_type, self._msgtype = MESSAGE_TYPES[kind]
        subscription = self.create_subscription(msg_type, topic, self._on_image, messages.sensor_qos(reliability))
        self._topic = subscription.topic_name
        self.received = self.processed = self.dropped = self.failed = 0
        self._received_at_check = 0
        self.create_timer(NO_FRAMES_WARN_S, self._check_frames, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._frame: tuple[Any, float] | None = None
        self._cv = threading.Condition()
        self._stop = False
        self._worker = threading.Thread(target=self._work, daemon=True)
        self._worker.start()
        fixed_at_start(self)

    def _on_image(self, msg) -> None:
        with self._cv:
            self.received += 1
            if self._frame is not None:
                self.dropped += 1  # never processed: a newer frame replaces it
            self._frame = (msg, time.monotonic())
            self._cv.notify()

    def no_frames_warning(self) -> str:
        """What the node says when no frame came for NO_FRAMES_WARN_S: the topic and type it waits for, and the
        publishers of the topic that send another type (a subscription of one type never hears them)."""
        others = sorted({info.topic_type for info in self.get_publishers_info_by_topic(self._topic)
                         if info.topic_type != self._msgtype})
        hint = ""
        if others:
            kind = next((k for k, (_, name) in MESSAGE_TYPES.items() if name in others), None)
            hint = (f"; its publishers send {', '.join(others)}"
                    + (f" (set image_type:={kind})" if kind else " (not an image type this node reads)"))
        return f"no frame on {self._topic} ({self._msgtype}) for {NO_FRAMES_WARN_S:g} s{hint}"

    def _check_frames(self) -> None:
        with self._cv:
            fresh = self.received != self._received_at_check
            self._received_at_check = self.received
        if not fresh:
            self.get_logger().warning(self.no_frames_warning())

    def _work(self) -> None:
        while True:
            with self._cv:
                while self._frame is None and not self._stop:
                    self._cv.wait(0.5)
                if self._stop:
                    return
                msg, arrived = self._frame
                self._frame = None
            if time.monotonic() - arrived > self.max_age_s:
                with self._cv:
                    self.dropped += 1
                continue
            try:
                # decoded as `vpr train` reads a bag; DatasetError (one line) for a frame that cannot be used
                image = decode(msg, self._msgtype, f"stamped {(messages.stamp_ns(msg) or 0) * 1e-9:.3f} s")
                index, confidence = self.matcher.query(image[None])
            except Exception as exc:  # a bad frame must not kill the node
                with self._cv:
                    self.failed += 1
                self.get_logger().warning(f"frame skipped: {type(exc).__name__}: {exc}", throttle_duration_sec=1.0)
                continue
            # Counted before it is published: whoever sees the answer sees the counters that include it.
            with self._cv:
                self.processed += 1
            place, conf = int(np.asarray(index).reshape(-1)[0]), float(np.asarray(confidence).reshape(-1)[0])
            stamp = messages.stamp_ns(msg) or 0
            self.index_pub.publish(Int32(data=place))
            self.confidence_pub.publish(Float32(data=conf))
            self.match_pub.publish(Float64MultiArray(data=[place, conf, stamp * 1e-9, time.monotonic() - arrived]))

    def destroy_node(self) -> None:
        if hasattr(self, "_worker"):  # absent when the constructor refused the parameters
            with self._cv:
                self._stop = True
                self._cv.notify()
            self._worker.join(timeout=2.0)
        super().destroy_node()


def main(argv: list[str] | None = None) -> int:
    return run_node(lambda context: PlaceRecognitionNode(context=context), argv, "place-recognition node")


if __name__ == "__main__":
    raise SystemExit(main())
