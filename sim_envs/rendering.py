"""Rendering of one plant copy: ``rgb_array`` offscreen via ``mujoco.Renderer`` (set ``MUJOCO_GL=egl`` when
headless) and ``human`` via ``mujoco.viewer`` where a display exists. Images are uint8 [height, width, 3]."""

from __future__ import annotations

import os

import mujoco
import numpy as np

from sim_envs import validation

RENDER_MODES = ("rgb_array", "human")


def has_display() -> bool:
    """Whether a window can be opened (an X11 or Wayland display is set)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def available_render_modes() -> list[str]:
    """The render modes usable here: 'rgb_array' always, 'human' only with a display."""
    return [mode for mode in RENDER_MODES if mode != "human" or has_display()]


def check_render_mode(render_mode: str | None) -> str | None:
    """``render_mode`` if it is None, 'rgb_array', or 'human' with a display; ValueError otherwise."""
    if render_mode is not None:
        validation.one_of("render_mode", render_mode, RENDER_MODES)
        if render_mode == "human" and not has_display():
            raise ValueError("render_mode='human' needs a display (DISPLAY unset): use 'rgb_array'")
    return render_mode


class FrameRenderer:
    """Draws (model, data) from a named camera, offscreen or in a passive viewer window."""

    def __init__(self, render_mode: str, width: int, height: int, camera: str) -> None:
        self.render_mode = render_mode
        self.width = validation.integer_in("width", width, 1, 8192)
        self.height = validation.integer_in("height", height, 1, 8192)
        self.camera = camera
        self._renderer: mujoco.Renderer | None = None
        self._viewer = None

    def check_size(self, model: mujoco.MjModel) -> None:
        """ValueError in one line where an offscreen frame (rgb_array) would not fit the model's framebuffer (MuJoCo's
        own error is a page long); a window (human) has none."""
        framebuffer = model.vis.global_.offwidth, model.vis.global_.offheight
        if self.render_mode == "rgb_array" and (self.width > framebuffer[0] or self.height > framebuffer[1]):
            raise ValueError(f"width x height {self.width} x {self.height} exceed the model's offscreen "
                             f"framebuffer {framebuffer[0]} x {framebuffer[1]}")

    def render(self, model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray | None:
        """An RGB frame in 'rgb_array' mode; in 'human' mode the window is refreshed and None returned."""
        if self.render_mode == "human":
            if self._viewer is None:
                from mujoco import viewer  # needs a display: imported only when one is used

                self._viewer = viewer.launch_passive(model, data)
            self._viewer.sync()
            return None
        if self._renderer is None:
            self.check_size(model)
            self._renderer = mujoco.Renderer(model, height=self.height, width=self.width)
        self._renderer.update_scene(data, camera=self.camera)
        return self._renderer.render()

    def close(self) -> None:
        """Free the GL context and close the window."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None
