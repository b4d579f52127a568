"""Rendering a traversal: the world as MJCF under one condition, and a free camera driven along the road.

Offscreen through ``mujoco.Renderer`` (set ``MUJOCO_GL=egl`` when headless). The camera stands `CAMERA_HEIGHT`
m above the road, looks along the road heading (plus yaw jitter) and slightly down. Units: m, rad, pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import mujoco
import numpy as np

from sim_envs.routes.appearance import Condition
from sim_envs.routes.world import World, WorldObject

CAMERA_HEIGHT = 1.6  # m
CAMERA_PITCH = -4.0  # deg (negative: looking down)
FOVY = 70.0  # deg, vertical field of view
EXTENT = 100.0  # m: MuJoCo's znear/zfar/fog are relative to the model extent
#: Materials a `WorldObject` may name: glowing (lit windows, lamps: emission makes them bright without light)
#: and wet (a shiny road).
MATERIALS = {
    "glow": 'emission="1"',
    "wet": 'specular="0.9" shininess="0.9" reflectance="0.2"',
}


@dataclass(frozen=True)
class Pose:
    """A camera pose: place index, position (m), heading (rad), time since the start of the traversal (s)."""

    place: int
    x: float
    y: float
    yaw: float
    time: float


def _fmt(values: tuple[float, ...] | np.ndarray) -> str:
    return " ".join(f"{float(v):.4g}" for v in values)


def _geom(obj: WorldObject) -> str:
    quat = (np.cos(obj.yaw / 2), 0.0, 0.0, np.sin(obj.yaw / 2))
    material = f' material="{obj.material}"' if obj.material else ""
    return (
        f'<geom type="{obj.kind}" pos="{_fmt(obj.pos)}" size="{_fmt(obj.size)}" quat="{_fmt(quat)}" '
        f'rgba="{_fmt(obj.rgba)}"{material} contype="0" conaffinity="0"/>'
    )


def world_xml(world: World, objects: list[WorldObject], condition: Condition) -> str:
    """MJCF of the world (static geoms only, no physics) lit and coloured for `condition`."""
    lo, hi = world.path.xy.min(axis=0) - 60, world.path.xy.max(axis=0) + 60
    centre, half = (lo + hi) / 2, (hi - lo) / 2
    fog = condition.fog or (1e4, 2e4)
    (sky1, sky2) = condition.sky
    return f"""<mujoco model="route">
  <statistic extent="{EXTENT}" center="0 0 0"/>
  <visual>
    <global fovy="{FOVY}"/>
    <quality shadowsize="0" offsamples="0"/>
    <headlight ambient="{_fmt(condition.ambient)}" diffuse="{_fmt(condition.headlight)}" specular="0 0 0"/>
    <map znear="{0.1 / EXTENT}" zfar="{150.0 / EXTENT}" fogstart="{fog[0] / EXTENT}" fogend="{fog[1] / EXTENT}"/>
    <rgba fog="{_fmt(condition.fog_rgb)} 1"/>
  </visual>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1="{_fmt(sky1)}" rgb2="{_fmt(sky2)}" width="64"
      height="64"/>
    <texture name="ground" type="2d" builtin="flat" mark="random" random="0.15" rgb1="{_fmt(condition.ground)}"
      markrgb="{_fmt(np.asarray(condition.ground) * 0.7)}" width="256" height="256"/>
    <material name="ground" texture="ground" texrepeat="{half[0] / 4:.0f} {half[1] / 4:.0f}"/>
    {chr(10).join(f'<material name="{name}" {attributes}/>' for name, attributes in MATERIALS.items())}
  </asset>
  <worldbody>
    <light directional="true" dir="{_fmt(condition.sun_dir)}" diffuse="{_fmt(condition.sun_diffuse)}"
      ambient="0 0 0" specular="0 0 0" castshadow="false"/>
    <geom type="plane" pos="{_fmt((*centre, 0.0))}" size="{_fmt((*half, 1.0))}" material="ground" contype="0"
      conaffinity="0"/>
    {chr(10).join(_geom(obj) for obj in objects)}
  </worldbody>
</mujoco>"""


def camera_poses(
    world: World, places: int, spacing: float, speed: float, lateral_std: float, yaw_std: float, seed: int
) -> list[Pose]:
    """One pose every `spacing` m along the road from 10 m in, with smooth lateral (m) and yaw (rad) jitter."""
    rng = np.random.default_rng(seed)
    s = 10.0 + spacing * np.arange(places)
    xy, yaw = world.path.at(s)
    kernel = np.hanning(9) / np.hanning(9).sum()
    smooth = [np.convolve(rng.normal(size=places + 8), kernel, mode="valid") / np.sqrt((kernel**2).sum()) for _ in "ly"]
    lateral, dyaw = smooth[0] * lateral_std, smooth[1] * yaw_std
    x, y = xy[:, 0] - lateral * np.sin(yaw), xy[:, 1] + lateral * np.cos(yaw)
    return [
        Pose(k, float(x[k]), float(y[k]), float(yaw[k] + dyaw[k]), float(s[k] - s[0]) / speed) for k in range(places)
    ]


def render_frames(xml: str, poses: list[Pose], width: int, height: int, fog: bool) -> Iterator[np.ndarray]:
    """RGB frames uint8 [height, width, 3], one per pose."""
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderer = mujoco.Renderer(model, height=height, width=width, max_geom=model.ngeom + 16)
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_FOG] = fog
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_FREE
    camera.distance = 1.0
    camera.elevation = CAMERA_PITCH
    pitch = np.radians(CAMERA_PITCH)
    try:
        for pose in poses:
            direction = np.array([np.cos(pose.yaw) * np.cos(pitch), np.sin(pose.yaw) * np.cos(pitch), np.sin(pitch)])
            camera.lookat[:] = np.array([pose.x, pose.y, CAMERA_HEIGHT]) + camera.distance * direction
            camera.azimuth = np.degrees(pose.yaw)
            renderer.update_scene(data, camera=camera)
            yield renderer.render().copy()
    finally:
        renderer.close()
