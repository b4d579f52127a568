"""MJCF generator for an N-link planar swimmer in a viscous fluid (NCAP / dm_control geometry).

Units: m, kg, s, rad, N·m. The head is the first body; it carries the planar root joints (slide x, slide y,
hinge z) and the links trail behind it along the head's -x axis, so the head's forward axis is its +x.
Each link is ``link_length`` long; one hinge joint (range ±``joint_limit(n_links)``) and one torque motor
(``ctrl`` in [-1, 1] times ``gear`` N·m) join every link to the one in front of it. Propulsion comes only
from MuJoCo's inertia-box fluid model (``density`` kg/m³, ``viscosity`` Pa·s; defaults 3000 kg/m³, dm_control's
swimmer fluid, three times water's 1000, and 1e-3 Pa·s, water's viscosity): each link's invisible inertia box is
thin sideways, so sideways drag is much larger than drag along the link, as in dm_control's swimmer. Contacts are
disabled (the swimmer floats in the plane z = 0).

The tracking camera looks down on the body's centre of mass (the middle of the straight body), which it follows,
from 0.9 m behind and 1.2 m above it, and from proportionally further for bodies longer than ``FRAMED_LENGTH`` (so
that it frames them whole).

Generalized coordinates: qpos = [head x (m), head y (m), head yaw (rad), joint angles (rad) head to tail],
qvel likewise in m/s and rad/s. The model has no sensors: observations are read from the state.
"""

from __future__ import annotations

import math

from sim_envs import validation

#: Link counts a swimmer may have: 2 (one joint, the fewest the NCAP circuit takes) to 30, checked to build, stay
#: stable and step finite at the swimmer envelope's extremes of link length, gear and fluid (a travelling wave, and
#: the shipped NCAP retargeted, swim 20 and 30 links forward); longer bodies were not checked
MIN_LINKS, MAX_LINKS = 2, 30
#: The NCAP body: link length (m), motor gear (N·m at full command), fluid density (kg/m³: dm_control's swimmer
#: fluid, three times water's), viscosity (Pa·s: water's)
LINK_LENGTH, GEAR, DENSITY, VISCOSITY = 0.1, 5e-4, 3000.0, 1e-3
#: Link lengths (m) a swimmer may have: MuJoCo refuses shorter links ("fromto points too close"); 10 m is a hundred
#: times the NCAP link (a longer one is a typo, e.g. mm given as m)
MIN_LINK_LENGTH, MAX_LINK_LENGTH = 1e-3, 10.0
#: Body length (m) the tracking camera frames at its nearest (a square frame is 1.24 m wide there)
FRAMED_LENGTH = 1.0


def joint_limit(n_links: int) -> float:
    """NCAP joint limit in rad: 2*pi / (n_joints + 1) with n_joints = n_links - 1."""
    return 2.0 * math.pi / n_links


def swimmer_xml(
    n_links: int,
    link_length: float = LINK_LENGTH,
    timestep: float = 0.005,
    density: float = DENSITY,
    viscosity: float = VISCOSITY,
    gear: float = GEAR,
) -> str:
    """MJCF text of an ``n_links`` swimmer (an integer, ``MIN_LINKS`` to ``MAX_LINKS`` links) of ``link_length``
    m links, physics step ``timestep`` s, fluid ``density`` kg/m³ and ``viscosity`` Pa·s, motors of ``gear`` N·m at
    full command."""
    n_links = validation.integer_in("n_links", n_links, MIN_LINKS, MAX_LINKS)
    length = n_links * link_length
    back_off = max(1.0, length / FRAMED_LENGTH)  # the camera's distance, x its nearest
    limit = math.degrees(joint_limit(n_links))
    half = link_length / 2.0
    bodies = ""
    for i in range(n_links - 1, 0, -1):
        bodies = f"""
        <body name="link{i}" pos="{-link_length} 0 0">
          <joint name="joint{i}" range="{-limit} {limit}"/>
          <geom class="visual" material="{"body" if i % 2 else "stripe"}"/>
          <geom class="inertia"/>{bodies}
        </body>"""
    motors = "".join(f'\n    <motor name="motor{i}" joint="joint{i}"/>' for i in range(1, n_links))
    return f"""<mujoco model="swimmer{n_links}">
  <option timestep="{timestep}" density="{density}" viscosity="{viscosity}" integrator="implicitfast">
    <flag contact="disable" gravity="disable"/>
  </option>
  <visual><global offwidth="1280" offheight="1280"/></visual>
  <asset>
    <texture name="grid" type="2d" builtin="checker" rgb1=".1 .2 .3" rgb2=".2 .3 .4"
             width="300" height="300"/>
    <material name="grid" texture="grid" texrepeat="8 8" reflectance=".2"/>
    <material name="body" rgba=".7 .5 .3 1"/>
    <material name="stripe" rgba=".5 .35 .2 1"/>
    <material name="head" rgba=".8 .3 .3 1"/>
  </asset>
  <default>
    <joint type="hinge" axis="0 0 1" limited="true" solreflimit=".02 1" solimplimit="0 .8 .1"
           armature="1e-6"/>
    <motor gear="{gear}" ctrllimited="true" ctrlrange="-1 1"/>
    <default class="inertia">
      <geom type="box" pos="{-half} 0 0" size="{half} .001 .01" rgba="0 0 0 0" mass=".01"/>
    </default>
    <default class="visual">
      <geom type="capsule" size=".01" fromto="0 0 0 {-link_length} 0 0" mass="0" contype="0" conaffinity="0"/>
    </default>
  </default>
  <worldbody>
    <light pos="0 0 2" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="0 0 .1" pos="0 0 -.05" material="grid"/>
    <body name="head">
      <camera name="tracking" mode="trackcom" pos="{-length / 2.0} {-0.9 * back_off} {1.2 * back_off}"
              xyaxes="1 0 0 0 .8 .6"/>
      <joint name="rootx" type="slide" axis="1 0 0" limited="false" armature="0"/>
      <joint name="rooty" type="slide" axis="0 1 0" limited="false" armature="0"/>
      <joint name="rootz" type="hinge" axis="0 0 1" limited="false" armature="0"/>
      <geom class="visual" material="head"/>
      <geom class="inertia"/>
      {bodies}
    </body>
  </worldbody>
  <actuator>{motors}
  </actuator>
</mujoco>
"""
