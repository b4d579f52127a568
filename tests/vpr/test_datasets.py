"""Folder and bag loaders on a small generated route, and every bad-input case."""

import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sim_envs.routes import generate_route
from snncontrol.vpr.datasets import Traversal, open_traversal
from snncontrol.vpr.datasets.bags import load_bag
from snncontrol.vpr.datasets.folders import MAX_PIXELS, align, load_folder, read_ground_truth
from snncontrol.vpr.errors import DatasetError

PLACES = 30  # as rendered by the `route` fixture (tests/vpr/conftest.py)


def test_route_layout_and_determinism(route: Path, tmp_path: Path):
    assert (route / "day" / "000000.png").is_file() and (route / "bags" / "day" / "metadata.yaml").is_file()
    lines = (route / "dusk+autumn" / "poses.csv").read_text().splitlines()
    assert lines[0] == "place,x,y,yaw,time" and len(lines) == PLACES + 1
    again = generate_route(tmp_path / "again", PLACES, ["day", "dusk+autumn"], seed=3, width=64, height=48, bags=None)
    for name in ("day/000003.png", "dusk+autumn/000002.png", "day/poses.csv"):
        assert (again / name).read_bytes() == (route / name).read_bytes()
    assert (again / "day/000000.png").read_bytes() != (route / "dusk+autumn/000000.png").read_bytes()


def test_folder_and_mcap_bag_agree(route: Path):
    folder = load_folder(route / "day")
    bag = open_traversal(route / "bags" / "day")
    assert len(folder) == len(bag) == PLACES
    assert all(np.array_equal(a, b) for a, b in zip(folder.images, bag.images, strict=True))
    by_distance = load_bag(route / "bags" / "day", every_m=4.0, odom_topic="/odom")
    assert len(by_distance) == PLACES // 2 and np.array_equal(by_distance.images[3], folder.images[6])
    by_time = load_bag(route / "bags" / "day", every_s=0.6)  # 10 m/s, 2 m per place: every third frame
    assert np.array_equal(by_time.images[2], folder.images[6])


def test_a_route_replaces_only_an_earlier_route_and_a_failed_render_keeps_it(tmp_path: Path):
    out = generate_route(tmp_path / "r", 2, ["day"], seed=1, width=32, height=24, bags=None)
    first = (out / "day" / "000001.png").read_bytes()

    def dies(_traversal: str, frames: int) -> None:
        if frames == 2:
            raise KeyboardInterrupt  # the user stops it part-way

    with pytest.raises(KeyboardInterrupt):
        generate_route(out, 2, ["night"], seed=2, width=32, height=24, bags=None, progress=dies)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no half-rendered sibling left
    assert sorted(p.name for p in out.iterdir()) == ["day", "route.json"]
    assert (out / "day" / "000001.png").read_bytes() == first
    generate_route(out, 2, ["night"], seed=2, width=32, height=24, bags=None)  # an earlier route: replaced
    assert sorted(p.name for p in out.iterdir()) == ["night", "route.json"]
    (out / "ensemble").mkdir()  # trained into the route's folder: it was deleted with the route it sat in
    with pytest.raises(FileExistsError, match=r"holds a route and other files \(ensemble\)"):
        generate_route(out, 2, ["day"], seed=2, width=32, height=24, bags=None)
    assert sorted(p.name for p in out.iterdir()) == ["ensemble", "night", "route.json"]
    (out / "ensemble").rmdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="is not a route"):
        generate_route(tmp_path / "mine", 2, ["day"], seed=1, width=32, height=24, bags=None)
    with pytest.raises(ValueError, match=r"width must be an integer in \[1, 4096\], got 100000"):
        generate_route(tmp_path / "big", 2, ["day"], seed=1, width=100_000, height=24, bags=None)


def test_sqlite3_bag(tmp_path: Path):
    out = generate_route(tmp_path / "sq", 3, ["day"], seed=1, width=32, height=24, bags="sqlite3")
    assert len(open_traversal(out / "bags" / "day")) == 3


def test_ground_truth_csv(route: Path, tmp_path: Path):
    ref, query = load_folder(route / "day"), load_folder(route / "dusk+autumn")
    gt = tmp_path / "gt.csv"
    gt.write_text("query,reference\n" + "".join(f"{q:06d}.png,{(q + 1) % PLACES}\n" for q in range(PLACES)))
    assert align(ref, query, gt).tolist() == [(q + 1) % PLACES for q in range(PLACES)]
    gt.write_text("query,reference\n000000.png,000000.png\n")
    with pytest.raises(DatasetError, match=r"no row for query image 000001\.png"):
        align(ref, query, gt)
    rows = "".join(f"{q},{q}\n" for q in range(PLACES))
    gt.write_text("\ufeffquery,reference\n" + rows, encoding="utf-8")  # the byte order mark Excel writes
    assert align(ref, query, gt).tolist() == list(range(PLACES))
    gt.write_text("query,reference\n" + rows + "0,5\n")  # a second row for query 0 would win silently
    with pytest.raises(DatasetError, match=rf"line {PLACES + 2}: query image 000000\.png has a row already \(line 2\)"):
        align(ref, query, gt)
    gt.write_text("query,reference\n" + "x" * 200_000 + ",0\n")
    with pytest.raises(DatasetError, match="not a UTF-8 CSV file"):
        align(ref, query, gt)
    gt.write_bytes(b"query,reference\n\xff\xfe,0\n")
    with pytest.raises(DatasetError, match="not a UTF-8 CSV file"):
        align(ref, query, gt)
    gt.write_text("query,reference\n\u00b2,0\n")  # a digit to str.isdigit, not to int
    with pytest.raises(DatasetError, match="no query image '\u00b2'"):
        align(ref, query, gt)


def test_ground_truth_skips_blank_lines_and_reads_many_rows(route: Path, tmp_path: Path):
    """A blank line (a trailing one, as editors add) was an 'expected query,reference' error. (Names are looked up in
    a dict: the list search was quadratic, 5.6 s at 20,000 rows; speed is no test's business, correctness is.)"""
    ref, query = load_folder(route / "day"), load_folder(route / "dusk+autumn")
    gt = tmp_path / "gt.csv"
    gt.write_text("query,reference\n\n" + "".join(f"{q:06d}.png,{q}\n ,\n" for q in range(PLACES)) + "\n\n")
    assert align(ref, query, gt).tolist() == list(range(PLACES))
    n = 20_000
    many = Traversal("many", [np.zeros((1, 1), np.uint8)] * n, [f"{k:06d}.png" for k in range(n)])
    gt.write_text("query,reference\n" + "".join(f"{k:06d}.png,{n - 1 - k:06d}.png\n" for k in range(n)))
    assert read_ground_truth(gt, many, many).tolist() == list(range(n - 1, -1, -1))
    stamps = Traversal("bag", [np.zeros((1, 1), np.uint8)] * 3, ["1.5", "1.5", "2.0"])  # two images, one stamp
    gt.write_text("query,reference\n1.5,2.0\n2.0,1.5\n1,1\n")  # a name is its first image, the second by index
    assert read_ground_truth(gt, stamps, stamps).tolist() == [2, 1, 0]


def test_mismatched_counts_name_both(route: Path, tmp_path: Path):
    short = tmp_path / "short"
    short.mkdir()
    for k in range(3):
        (short / f"{k:06d}.png").write_bytes((route / "day" / f"{k:06d}.png").read_bytes())
    with pytest.raises(DatasetError, match=rf"has {PLACES} images but query .* has 3"):
        align(load_folder(route / "day"), load_folder(short))


def test_empty_folder_and_unreadable_image(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty"):
        load_folder(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(bad / "000000.png")
    (bad / "000001.png").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match=r"000001\.png"):
        load_folder(bad)
    with pytest.raises(DatasetError, match="no such image folder"):
        load_folder(tmp_path / "missing")


def test_bag_without_topic_lists_topics(route: Path):
    with pytest.raises(DatasetError, match=r"no topic /cam .*topics: /camera/image_raw, /odom"):
        load_bag(route / "bags" / "day", topic="/cam")
    with pytest.raises(DatasetError, match=r"is nav_msgs/msg/Odometry"):
        load_bag(route / "bags" / "day", topic="/odom")
    with pytest.raises(DatasetError, match="needs an odometry"):
        load_bag(route / "bags" / "day", every_m=2.0)
    for every_s in (math.inf, math.nan, 0.0):
        with pytest.raises(DatasetError, match="every_s must be positive and finite"):
            load_bag(route / "bags" / "day", every_s=every_s)
    assert len(load_bag(route / "bags" / "day", every_s=1e-300)) == PLACES  # denser than the frames: every frame



def test_an_image_over_the_pixel_limit_is_refused_from_its_header(tmp_path: Path):
    Image.new("L", (8, 8)).save(tmp_path / "000000.png")
    assert load_folder(tmp_path).images[0].shape == (8, 8)
    png = bytearray((tmp_path / "000000.png").read_bytes())
    for side in (math.isqrt(MAX_PIXELS) + 1, 20_000):  # ours, and above PIL's own limit: never decoded
        png[16:24] = struct.pack(">II", side, side)  # the IHDR size, then its CRC
        png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
        (tmp_path / "000001.png").write_bytes(bytes(png))
        with pytest.raises(DatasetError, match=rf"000001\.png .*{MAX_PIXELS} pixels"):
            load_folder(tmp_path)


def test_a_topic_recorded_with_two_message_types_is_refused(tmp_path: Path):
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    string = store.types["std_msgs/msg/String"]
    with Writer(tmp_path / "mixed", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        writer.add_connection("/camera/image_raw", "sensor_msgs/msg/Image", typestore=store)
        text = writer.add_connection("/camera/image_raw", "std_msgs/msg/String", typestore=store)
        writer.write(text, 10**9, store.serialize_cdr(string("hello"), "std_msgs/msg/String"))
    with pytest.raises(DatasetError, match="is sensor_msgs/msg/Image and std_msgs/msg/String, expected one of"):
        load_bag(tmp_path / "mixed")


def _write_bag(path: Path, fixes: list[tuple[float, int]], cut: int | None = None) -> None:
    """A bag of len(fixes) 4x4 mono8 images on /cam, 0.1 s apart, and a NavSatFix (latitude, status) on /fix
    beside each (longitude 4 degrees); image message `cut` cut short (recorded while the disk filled up)."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types = store.types
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        cam = writer.add_connection("/cam", "sensor_msgs/msg/Image", typestore=store)
        fix = writer.add_connection("/fix", "sensor_msgs/msg/NavSatFix", typestore=store)
        for k, (latitude, status) in enumerate(fixes):
            ns = 10**18 + k * 10**8
            header = types["std_msgs/msg/Header"](stamp=types["builtin_interfaces/msg/Time"](sec=ns // 10**9,
                                                  nanosec=ns % 10**9), frame_id="x")  # fmt: skip
            image = types["sensor_msgs/msg/Image"](header=header, height=4, width=4, encoding="mono8",
                                                   is_bigendian=0, step=4, data=np.full(16, k, np.uint8))
            raw = store.serialize_cdr(image, "sensor_msgs/msg/Image")
            writer.write(cam, ns, raw[:30] if k == cut else raw)
            gnss = types["sensor_msgs/msg/NavSatFix"](
                header=header, status=types["sensor_msgs/msg/NavSatStatus"](status=status, service=1),
                latitude=latitude, longitude=4.0, altitude=0.0, position_covariance=np.zeros(9),
                position_covariance_type=0)
            writer.write(fix, ns, store.serialize_cdr(gnss, "sensor_msgs/msg/NavSatFix"))


def test_gnss_messages_without_a_fix_are_skipped(tmp_path: Path):
    """A NavSatFix without a fix (status -1, NaN as drivers publish it) made the travelled distance NaN: 'arange:
    cannot compute length'."""
    metre = 1.0 / 111_195.0  # degrees of latitude
    fixes = [(math.nan, -1), (52.0, -1), *[(52.0 + k * metre, 0) for k in range(8)], (math.inf, 0)]
    _write_bag(tmp_path / "gnss", fixes)
    by_distance = load_bag(tmp_path / "gnss", topic="/cam", every_m=2.0, odom_topic="/fix")
    # images 0 and 1 have no fix: at the first fix's distance (0 m), as image 2; 2 m further on are images 4, 6, 8
    assert [int(image[0, 0]) for image in by_distance.images] == [1, 4, 6, 8]
    _write_bag(tmp_path / "nofix", [(math.nan, -1), (52.0, -1)])
    with pytest.raises(DatasetError, match=r"^topic /fix in bag .*nofix has no message with a usable position"):
        load_bag(tmp_path / "nofix", topic="/cam", every_m=2.0, odom_topic="/fix")


def test_a_message_cut_short_is_one_line_naming_message_topic_and_bag(tmp_path: Path):
    _write_bag(tmp_path / "cut", [(52.0, 0)] * 3, cut=1)
    message = r"^cannot read message #1 on /cam in bag .*cut: Could not deserialize"
    with pytest.raises(DatasetError, match=message) as info:
        load_bag(tmp_path / "cut", topic="/cam")
    assert "\n" not in str(info.value)
    assert len(load_bag(tmp_path / "cut", topic="/cam", every_s=0.2)) == 2  # the cut message is not sampled


def test_a_16_bit_copy_of_an_8_bit_image_reads_and_preprocesses_the_same(tmp_path: Path):
    """16-bit grayscale (PNG: mode I;16; PGM: mode I) keeps its high byte: an 8-bit v stored as v * 257 reads v
    again. PIL's convert("L") clipped it (every value above 255 read as 255: a near black-and-white image)."""
    from types import SimpleNamespace

    from snncontrol.vpr.datasets.bags import decode
    from snncontrol.vpr.datasets.folders import read_image
    from snncontrol.vpr.preprocess import preprocess

    base = (np.random.default_rng(0).random((48, 64)) * 255).astype(np.uint8)
    Image.fromarray(base).save(tmp_path / "8.png")
    Image.fromarray(base.astype(np.uint16) * 257).save(tmp_path / "16.png")
    pgm = tmp_path / "16.ppm"
    pgm.write_bytes(b"P5\n64 48\n65535\n" + (base.astype(">u2") * 257).tobytes())
    assert Image.open(tmp_path / "16.png").mode == "I;16" and Image.open(pgm).mode == "I"
    for path in (tmp_path / "16.png", pgm):
        assert np.array_equal(read_image(path), base), path
    compressed = SimpleNamespace(data=(tmp_path / "16.png").read_bytes())  # a CompressedImage in a bag or the node
    assert np.array_equal(decode(compressed, "sensor_msgs/msg/CompressedImage", "#0"), base)
    assert np.array_equal(preprocess([read_image(tmp_path / "16.png")]), preprocess([base]))


def test_images_whose_range_is_unknown_are_refused_in_one_line(tmp_path: Path):
    from snncontrol.vpr.datasets.folders import image_pixels, read_image

    pfm = tmp_path / "float.ppm"  # PIL opens a PFM (Pf) as mode F whatever the suffix
    pfm.write_bytes(b"Pf\n2 1\n-1.0\n" + np.array([0.5, 2.0], "<f4").tobytes())
    with pytest.raises(DatasetError, match=r"float\.ppm has floating-point pixels \(mode F\)"):
        read_image(pfm)
    for values in ([-1, 5], [0, 70_000]):
        with pytest.raises(DatasetError, match=rf"x has pixel values {values[0]}\.\.{values[1]} \(mode I\)"):
            image_pixels(Image.fromarray(np.array([values], np.int32)), "x")


def test_folder_images_are_taken_in_natural_name_order(tmp_path: Path):
    """1.png .. 12.png in numeric order (as text, 10.png, 11.png, 12.png came before 2.png: wrong places for the
    by-index alignment, the tolerance and sequence matching); zero-padded names keep their text order."""
    for k in range(1, 13):
        Image.new("L", (4, 4), k * 20).save(tmp_path / f"{k}.png")
    traversal = load_folder(tmp_path)
    assert traversal.names == [f"{k}.png" for k in range(1, 13)]
    assert [int(image[0, 0]) for image in traversal.images] == [k * 20 for k in range(1, 13)]
    padded = tmp_path / "padded"
    padded.mkdir()
    names = ["a_000009.png", "a_000010.png", "b_000001.png", "frame01.png", "frame1.png", "frame2.png"]
    for name in reversed(names):
        Image.new("L", (4, 4)).save(padded / name)
    assert load_folder(padded).names == names


def test_decimal_timestamp_names_sort_by_value_and_integer_names_as_before(tmp_path: Path):
    """EuRoC-style names (stamp in s with a decimal fraction) sorted with the fraction's digits as a whole number:
    579.8 and 579.85 before 579.763555, 580.1 before 580.05 (wrong places for the by-index alignment)."""
    from snncontrol.vpr.datasets.folders import natural_key

    stamps = ["1403636579.763555.png", "1403636579.8.png", "1403636579.85.png", "1403636580.05.png",
              "1403636580.1.png"]  # fmt: skip
    for k, name in enumerate(stamps):
        Image.new("L", (4, 4), k * 40).save(tmp_path / name)
    traversal = load_folder(tmp_path)
    assert traversal.names == stamps
    assert [int(image[0, 0]) for image in traversal.images] == [0, 40, 80, 120, 160]
    # other names keep the order they always had (integers by value, zero-padded as text, ties by name), dotted
    # counters and dates too (only a timestamp's whole seconds, 9 digits or more, start a fraction); a fraction's
    # own digits start no further one; equal values fall back to the name
    names = ["0.png", "1.png", "2.png", "10.png", "000009.png", "000010.png", "a_000009.png", "a_000010.png",
             "frame01.png", "frame1.png", "frame2.png", "frame10.png", "v1.2.9.png", "v1.2.10.png", "cam0.9.png",
             "cam0.12.png", "2023.9.30.png", "2023.10.1.png", "1403636579.5.7.png", "1403636579.5.10.png",
             "1403636579.50.png"]  # fmt: skip
    assert sorted(reversed(names), key=natural_key) == [
        "0.png", "1.png", "2.png", "000009.png", "000010.png", "10.png", "2023.9.30.png", "2023.10.1.png",
        "1403636579.5.7.png", "1403636579.5.10.png", "1403636579.50.png", "a_000009.png", "a_000010.png",
        "cam0.9.png", "cam0.12.png", "frame01.png", "frame1.png", "frame2.png", "frame10.png", "v1.2.9.png",
        "v1.2.10.png",
    ]  # fmt: skip


def test_hidden_files_are_skipped_and_pgm_and_tiff_folders_load(tmp_path: Path):
    """macOS leaves ._000001.png (AppleDouble metadata, not a PNG) beside each file copied to a foreign disk: the
    folder failed to load (UnidentifiedImageError). .pgm, .tif and .tiff decode (16-bit grayscale by its high
    byte) but were not listed: a PGM folder was 'empty'."""
    base = (np.random.default_rng(1).random((3, 12, 16)) * 255).astype(np.uint8)
    (tmp_path / "png").mkdir()
    for k, image in enumerate(base):
        Image.fromarray(image).save(tmp_path / "png" / f"{k:06d}.png")
        (tmp_path / "png" / f"._{k:06d}.png").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (tmp_path / "png" / ".hidden.png").write_bytes(b"not an image")
    traversal = load_folder(tmp_path / "png")
    assert traversal.names == ["000000.png", "000001.png", "000002.png"]
    (tmp_path / "pgm").mkdir()
    for k, image in enumerate(base):
        (tmp_path / "pgm" / f"{k}.pgm").write_bytes(b"P5\n16 12\n65535\n" + (image.astype(">u2") * 257).tobytes())
    (tmp_path / "tif").mkdir()
    Image.fromarray(base[0]).save(tmp_path / "tif" / "0.tif")
    Image.fromarray(base[1].astype(np.uint16) * 257).save(tmp_path / "tif" / "1.tiff")
    Image.fromarray(np.stack([base[2]] * 3, axis=-1)).save(tmp_path / "tif" / "2.TIF")
    assert Image.open(tmp_path / "tif" / "1.tiff").mode.startswith("I;16")
    for folder in ("png", "pgm", "tif"):
        images = load_folder(tmp_path / folder).images
        assert len(images) == 3, folder
        assert np.array_equal(images[0], base[0]) and np.array_equal(images[1], base[1]), folder
        assert np.array_equal(images[2] if images[2].ndim == 2 else images[2][..., 0], base[2]), folder


def test_a_transform_keeps_only_its_results_and_preprocesses_as_before(route: Path, tmp_path: Path):
    """Every decoded full-resolution frame was kept until the whole traversal was read (120 1080p JPEGs: 711 MB
    for 0.37 MB of 28x28 results). With a transform (`preprocess.shrink`) each frame is shrunk as it is read; the
    preprocessed images are the same, bit for bit, as preprocessing the full frames."""
    import tracemalloc
    from functools import partial

    from snncontrol.vpr.preprocess import normalize, preprocess, shrink

    shrink28 = partial(shrink, size=28)
    for path in (route / "day", route / "bags" / "day"):
        full = open_traversal(path).images
        small = open_traversal(path, transform=shrink28)
        assert all(image.shape == (28, 28) and image.dtype == np.float32 for image in small.images)
        assert np.array_equal(normalize(small.images), preprocess(full)), path
    assert np.array_equal(normalize(load_bag(route / "bags" / "day", every_s=0.6, transform=shrink28).images),
                          preprocess(load_bag(route / "bags" / "day", every_s=0.6).images))
    big = tmp_path / "big"
    big.mkdir()
    ramp = np.linspace(0, 255, 1280, dtype=np.float32)
    for k in range(12):  # 720p RGB: 2.8 MB each decoded, 33 MB in all
        Image.fromarray(np.broadcast_to((ramp + 9 * k).astype(np.uint8)[None, :, None], (720, 1280, 3))).save(
            big / f"{k}.png")
    tracemalloc.start()
    try:
        small = open_traversal(big, transform=shrink28)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(small) == 12 and peak < 12 * 720 * 1280 * 3 / 3, peak


def _image_bag(path: Path, frames: int, height: int, width: int) -> None:
    """A bag of `frames` rgb8 images on /camera/image_raw, 0.1 s apart, image k filled with k."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types = store.types
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        cam = writer.add_connection("/camera/image_raw", "sensor_msgs/msg/Image", typestore=store)
        for k in range(frames):
            ns = 10**18 + k * 10**8
            header = types["std_msgs/msg/Header"](stamp=types["builtin_interfaces/msg/Time"](sec=ns // 10**9,
                                                  nanosec=ns % 10**9), frame_id="cam")  # fmt: skip
            image = types["sensor_msgs/msg/Image"](header=header, height=height, width=width, encoding="rgb8",
                                                   is_bigendian=0, step=3 * width,
                                                   data=np.full(height * width * 3, k, np.uint8))
            writer.write(cam, ns, store.serialize_cdr(image, "sensor_msgs/msg/Image"))


def test_a_sampled_bag_reads_only_the_messages_it_keeps(tmp_path: Path):
    """The raw bytes of every image message were kept before sampling (300 720p frames sampled to 11: 1.1 GB
    peak). A first pass now reads the stamps only, a second decodes the chosen messages."""
    import tracemalloc

    _image_bag(tmp_path / "bag", 40, 240, 320)  # 0.23 MB per frame, 9.2 MB in all; 4 s at 10 Hz
    every = load_bag(tmp_path / "bag")
    assert [int(image[0, 0, 0]) for image in every.images] == list(range(40))
    tracemalloc.start()
    try:
        sampled = load_bag(tmp_path / "bag", every_s=1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    kept = [0, 10, 20, 30, 39]  # nearest to 0, 1, 2, 3 and 4 s
    assert [int(image[0, 0, 0]) for image in sampled.images] == kept
    assert sampled.names == [every.names[k] for k in kept] and sampled.stamps == [every.stamps[k] for k in kept]
    # the kept frames (1.2 MB) and a chunk of the bag at a time (5 MB), not every frame's bytes (13 MB)
    assert peak < 40 * 240 * 320 * 3, peak
