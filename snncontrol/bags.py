"""Reading ROS 2 bags (rosbag2 mcap or sqlite3) with `rosbags`, no ROS install needed: the shared part of the
place-recognition and blimp-recording loaders. Every problem is one line of the caller's error class."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rosbags.rosbag2 import Reader
from rosbags.serde import SerdeError

from snncontrol.errors import first_line


def open_bag(path: Path, error: type[Exception]) -> Reader:
    """An opened reader of the bag directory `path`; the caller closes it."""
    try:
        reader = Reader(path)
        reader.open()
    except Exception as exc:  # rosbags raises several unrelated types for unreadable bags
        raise error(f"cannot open bag {path}: {first_line(exc)}") from None
    return reader


def deserialize(
    store: Any, raw: bytes, msgtype: str, index: int, topic: str, path: Path, error: type[Exception]
) -> Any:
    """Message number `index` (0-based, on `topic`) of the bag `path`, read with the typestore `store`; one line of
    `error` if its bytes are not a `msgtype` (cut short, e.g. recorded while the disk filled up)."""
    try:
        return store.deserialize_cdr(raw, msgtype)
    except SerdeError as exc:
        raise error(f"cannot read message #{index} on {topic} in bag {path}: {first_line(exc)}") from None


def topic_connections(reader: Reader, topic: str, path: Path, types: tuple[str, ...], error: type[Exception]) -> Any:
    """The connections of `topic`, whose message types must all be one of `types` (a topic recorded with two types
    would hand its reader messages it cannot read)."""
    conns = [c for c in reader.connections if c.topic == topic]
    if not conns:
        available = ", ".join(sorted(reader.topics)) or "none"
        raise error(f"bag {path} has no topic {topic} (topics: {available})")
    found = sorted({c.msgtype for c in conns})
    if any(msgtype not in types for msgtype in found) or len(found) > 1:
        raise error(f"topic {topic} in bag {path} is {' and '.join(found)}, expected one of {sorted(types)}")
    return conns
