"""Appearance presets of generated routes: each parses, the lights glow, the changes change what they say, and
routes of the earlier presets are unchanged by the new ones' machinery."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from sim_envs.routes import generate_route
from sim_envs.routes.appearance import PRESETS, lights, parked_cars, parse_condition, restyle
from sim_envs.routes.world import make_world


def test_every_preset_parses_and_an_unknown_one_is_named():
    for name in PRESETS:
        assert parse_condition(name).name == name
    with pytest.raises(ValueError, match=r"unknown appearance preset 'sleet'.*heavy_fog"):
        parse_condition("night+sleet")


def test_a_second_pass_changes_nothing_but_the_name():
    assert replace(parse_condition("dusk+autumn+pass2"), name="x") == replace(parse_condition("dusk+autumn"), name="x")


def test_lamps_top_every_pole_and_windows_light_every_building():
    world = make_world(200.0, seed=1)
    poles = sum(obj.category == "pole" for obj in world.objects)
    buildings = sum(obj.category == "building" for obj in world.objects)
    glowing = lights(list(world.objects), parse_condition("night+lamps+windows"))
    assert [obj.category for obj in glowing].count("lamp") == poles > 0
    assert [obj.category for obj in glowing].count("window") == 8 * buildings > 0
    assert all(obj.material == "glow" for obj in glowing)
    assert lights(list(world.objects), parse_condition("night")) == []


def test_rain_makes_the_road_shiny_and_parked_cars_draw_only_when_asked():
    world = make_world(200.0, seed=1)
    wet = restyle(world.objects, parse_condition("rain"))
    assert {obj.material for obj in wet if obj.category == "road"} == {"wet"}
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert parked_cars(world.path, world.length, 0.0, rng) == [] and rng.bit_generator.state == state
    cars = parked_cars(world.path, world.length, 8.0, rng)
    assert len(cars) == 2 * round(8.0 * world.length / 100.0)  # a body and a cabin each


def test_lit_windows_and_lamps_are_the_brightest_pixels_of_a_night(tmp_path):
    generate_route(tmp_path, 12, ["night", "night+lamps+windows"], seed=3, bags=None)
    dark, lit = ([np.asarray(Image.open(path)) for path in sorted((tmp_path / name).glob("*.png"))]
                 for name in ("night", "night+lamps+windows"))  # fmt: skip
    assert max(frame.max() for frame in dark) < 200
    assert sum((frame.min(axis=2) > 200).sum() for frame in lit) > 20  # warm white window and lamp pixels


def test_stronger_jitter_moves_the_camera_further_from_the_first_pass(tmp_path):
    generate_route(tmp_path, 30, ["day", "dusk", "day+jitter"], seed=3, bags=None)
    poses = {
        name: np.loadtxt(tmp_path / name / "poses.csv", delimiter=",", skiprows=1)
        for name in ("day", "dusk", "day+jitter")
    }
    offset = {name: np.hypot(*(poses[name][:, 1:3] - poses["day"][:, 1:3]).T).std() for name in ("dusk", "day+jitter")}
    assert offset["day+jitter"] > 2 * offset["dusk"]


def test_an_unknown_bag_storage_is_one_value_error_before_anything_is_rendered(tmp_path):
    """It was a KeyError from the bag writer, after the first traversal's poses were written."""
    with pytest.raises(ValueError, match=r"bags must be one of mcap, sqlite3 or None, got 'zip'"):
        generate_route(tmp_path / "r", 2, ["day"], seed=0, width=16, height=12, bags="zip")
    assert not any(tmp_path.iterdir())


def test_routes_import_and_render_without_the_optional_rosbags_package(tmp_path):
    """`import sim_envs.routes` imported rosbags even for routes without bags."""
    script = f"""
import sys

class NoRosbags:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "rosbags":
            raise ModuleNotFoundError(f"No module named {{name!r}}")

sys.meta_path.insert(0, NoRosbags())
from sim_envs.routes import generate_route
generate_route({str(tmp_path / "r")!r}, 1, ["day"], seed=0, width=16, height=12, bags=None)
try:
    generate_route({str(tmp_path / "b")!r}, 1, ["day"], seed=0, width=16, height=12, bags="mcap")
except ModuleNotFoundError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "No module named 'rosbags'"
    assert (tmp_path / "r" / "day" / "000000.png").is_file() and not (tmp_path / "b").exists()


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"places": 2.5}, "places must be an integer"),
    ({"seed": None}, "seed must be an integer"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"width": 8.5}, "width must be an integer"),
    ({"height": 0}, "height must be an integer in [1, "),
    ({"traversals": "day"}, "traversals must be a non-empty list of condition names, got 'day'"),
    ({"traversals": []}, "traversals must be a non-empty list of condition names, got []"),
    ({"spacing": "2"}, "spacing must be a finite number > 0, got '2'"),
])  # fmt: skip
def test_bad_route_arguments_are_one_line_naming_the_argument(tmp_path, kwargs, says):
    """From Python (the CLI passes ints): a TypeError deep in NumPy, MuJoCo's multi-line error, "day" split into
    presets 'd', 'a', 'y', or an empty route written without a word."""
    settings = {"places": 2, "traversals": ["day"], "seed": 0, "width": 16, "height": 12, "bags": None, **kwargs}
    with pytest.raises(ValueError, match=re.escape(says)) as caught:
        generate_route(tmp_path / "r", **settings)
    assert "\n" not in str(caught.value) and not any(tmp_path.iterdir())
