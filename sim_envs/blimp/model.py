"""MJCF and physical parameters of the micro-blimp (Burgers et al. 2023 scale).

Units: m, kg, s, N. The blimp is one rigid body: a prolate ellipsoid envelope (semi-axes 0.5 x 0.26 x 0.26 m,
about 0.142 m^3 of helium, enough lift for the 140 g total mass) and a gondola below it carrying the thrust
unit and a downward LiDAR (MuJoCo ``rangefinder``, site ``lidar`` 1 cm above the gondola's underside). The
body
translates on three slide joints (x, y, z) and does not rotate: the low-hanging gondola keeps a real blimp
level, and only the altitude loop is modelled.

Air acts through MuJoCo's ellipsoid fluid model (``fluidshape="ellipsoid"``, air density 1.204 kg/m^3,
viscosity 1.81e-5 Pa·s), which gives the drag. MuJoCo's fluid model only contains the velocity-dependent
(Kirchhoff) added-mass terms, which vanish in pure translation, so the added mass of the accelerated air
is put on the slide joints as armature, with the potential-flow (Lamb) coefficients of the same ellipsoid
and the same air density: about 0.12 kg sideways/vertically and 0.04 kg along the axis (`added_mass`).

Buoyancy is not in MuJoCo's fluid model either: the plant applies it per copy as a vertical generalized
force (weight plus a bias, see ``sim_envs.blimp.plant``). The thrust unit is a motor on site ``thrust``
pushing along +z; its ``ctrl`` is the thrust in N (the unit's dynamics are in ``sim_envs.blimp.thrust``).
The body origin is placed so that qpos z equals the LiDAR height above the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

AIR_DENSITY = 1.204  # kg/m^3 at 20 °C
AIR_VISCOSITY = 1.81e-5  # Pa·s
GRAVITY = 9.81  # m/s^2


@dataclass(frozen=True)
class BlimpGeometry:
    """Dimensions (m) and masses (kg) of the nominal blimp."""

    envelope_semi_axes: tuple[float, float, float] = (0.5, 0.26, 0.26)
    envelope_mass: float = 0.095
    gondola_mass: float = 0.045
    gondola_half_size: tuple[float, float, float] = (0.05, 0.03, 0.02)
    gondola_drop: float = 0.3  # envelope centre to gondola centre
    lidar_recess: float = 0.01  # LiDAR lens above the gondola's underside (reads 0.01 m when landed)

    @property
    def mass(self) -> float:
        """Total mass, kg."""
        return self.envelope_mass + self.gondola_mass

    @property
    def lidar_offset(self) -> float:
        """Height of the envelope centre above the LiDAR, m."""
        return self.gondola_drop + self.gondola_half_size[2] - self.lidar_recess

    @property
    def volume(self) -> float:
        """Envelope volume, m^3."""
        a, b, c = self.envelope_semi_axes
        return 4.0 / 3.0 * math.pi * a * b * c


def added_mass(geometry: BlimpGeometry, air_density: float = AIR_DENSITY) -> tuple[float, float]:
    """Potential-flow added mass (kg) of the prolate envelope: (along its long axis, across it)."""
    a, b, _ = geometry.envelope_semi_axes
    e = math.sqrt(1.0 - (b / a) ** 2)
    log_term = math.log((1.0 + e) / (1.0 - e))
    alpha0 = 2.0 * (1.0 - e**2) / e**3 * (0.5 * log_term - e)
    beta0 = 1.0 / e**2 - (1.0 - e**2) / (2.0 * e**3) * log_term
    displaced = air_density * geometry.volume
    return alpha0 / (2.0 - alpha0) * displaced, beta0 / (2.0 - beta0) * displaced


def blimp_xml(geometry: BlimpGeometry, timestep: float, max_range: float) -> str:
    """MJCF text of the blimp above an unbounded floor (a gust-blown blimp drifting sideways never leaves it, as
    it never leaves the floor of a real hall); ``max_range`` (m) is the LiDAR's cutoff."""
    a, b, c = geometry.envelope_semi_axes
    gx, gy, gz = geometry.gondola_half_size
    along, across = added_mass(geometry)
    offset = geometry.lidar_offset
    return f"""<mujoco model="blimp">
  <option timestep="{timestep}" density="{AIR_DENSITY}" viscosity="{AIR_VISCOSITY}" gravity="0 0 {-GRAVITY}"
          integrator="implicitfast"/>
  <visual><global offwidth="1280" offheight="1280"/></visual>
  <asset>
    <texture name="grid" type="2d" builtin="checker" rgb1=".3 .3 .3" rgb2=".4 .4 .4"
             width="300" height="300"/>
    <material name="grid" texture="grid" texrepeat="10 10"/>
  </asset>
  <worldbody>
    <light pos="0 0 5" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="0 0 .1" material="grid"/>
    <camera name="side" pos="0 -4 1.2" xyaxes="1 0 0 0 0 1" mode="fixed"/>
    <body name="blimp" pos="0 0 {offset}">
      <joint name="x" type="slide" axis="1 0 0" armature="{along}"/>
      <joint name="y" type="slide" axis="0 1 0" armature="{across}"/>
      <joint name="z" type="slide" axis="0 0 1" armature="{across}"/>
      <geom name="envelope" type="ellipsoid" size="{a} {b} {c}" mass="{geometry.envelope_mass}"
            fluidshape="ellipsoid" rgba=".85 .85 .9 .8" contype="0" conaffinity="0"/>
      <geom name="gondola" type="box" pos="0 0 {-geometry.gondola_drop}" size="{gx} {gy} {gz}"
            mass="{geometry.gondola_mass}" fluidshape="ellipsoid" rgba=".2 .2 .25 1"/>
      <site name="thrust" pos="0 0 {-geometry.gondola_drop}" size=".01"/>
      <site name="lidar" pos="0 0 {-offset}" zaxis="0 0 -1" size=".005"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="thrust" site="thrust" gear="0 0 1 0 0 0"/>
  </actuator>
  <sensor>
    <rangefinder name="lidar" site="lidar" cutoff="{max_range}"/>
  </sensor>
</mujoco>
"""
