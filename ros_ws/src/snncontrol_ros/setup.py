"""ament_python package of the snncontrol ROS 2 nodes.

colcon builds it as is (console scripts go to lib/snncontrol_ros, where `ros2 run` / launch look for them; the
launch files and parameter YAML go to share/snncontrol_ros/launch). Plain `pip install -e .` works too: the
console scripts then land in the environment's bin/.
"""

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "snncontrol_ros"
HERE = Path(__file__).parent


def shared(pattern: str) -> list[str]:
    return sorted(str(p.relative_to(HERE)) for p in HERE.glob(pattern) if p.is_file())


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", shared("launch/*.xml")),
        (f"share/{PACKAGE}/launch/config", shared("launch/config/*.yaml")),
    ],
    install_requires=["setuptools", "numpy", "rosbags"],
    zip_safe=True,
    maintainer="snncontrol maintainers",
    maintainer_email="snncontrol@example.org",
    description="ROS 2 nodes of snncontrol: SNN controller, MuJoCo simulation, place recognition, recorder",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "controller_node = snncontrol_ros.controller_node:main",
            "sim_node = snncontrol_ros.sim_node:main",
            "place_recognition_node = snncontrol_ros.place_recognition_node:main",
            "recorder_node = snncontrol_ros.recorder:main",
            "passthrough_node = snncontrol_ros.passthrough_node:main",
            "snncontrol-ros-sim-blimp = snncontrol_ros.run_blimp_sim:main",
        ],
    },
)
