"""Offscreen renders have the requested shape; 'human' without a display is refused up front."""

from __future__ import annotations

import numpy as np
import pytest

from sim_envs import BlimpAltitudeEnv, SwimmerEnv, SwimmerVectorEnv
from sim_envs.rendering import has_display


@pytest.mark.parametrize("env_class", [BlimpAltitudeEnv, SwimmerEnv])
def test_rgb_array_render_has_requested_height_width_and_shows_something(env_class: type) -> None:
    env = env_class(render_mode="rgb_array", width=96, height=64)
    env.reset(seed=0)
    frame = env.render()
    env.close()
    assert frame.shape == (64, 96, 3) and frame.dtype == np.uint8
    assert frame.std() > 1.0  # not a blank image


def test_vector_env_renders_one_frame_per_copy() -> None:
    envs = SwimmerVectorEnv(2, render_mode="rgb_array", width=40, height=30)
    envs.reset(seed=0)
    frames = envs.render()
    envs.close()
    assert len(frames) == 2 and all(f.shape == (30, 40, 3) for f in frames)


@pytest.mark.skipif(has_display(), reason="a display exists here")
def test_human_render_without_display_raises_value_error_naming_render_mode() -> None:
    with pytest.raises(ValueError, match="render_mode"):
        SwimmerEnv(render_mode="human")
