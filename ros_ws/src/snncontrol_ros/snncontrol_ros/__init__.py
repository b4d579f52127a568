"""ROS 2 nodes of snncontrol (ament_python package `snncontrol_ros`).

- controller_node: lifecycle SNN controller for any artifact (safety, diagnostics, timer/event/adaptive rate)
- sim_node: a sim_envs MuJoCo plant in real time or lockstep, with /clock
- place_recognition_node: images in, matched place index and confidence out
- recorder: run recording to mcap bags (rosbags)
- passthrough_node: the latency benchmark's no-work reference
- launcher: node graphs as separate processes with the launch/config parameter files (no ros2 launch needed)
- run_blimp_sim: the blimp-in-simulation graph as separate processes, one command
- graph: the same graph in one process (tests, adaptive-rate report)

Pure, ROS-free logic lives in safety, diagnostics, adaptive and core.
"""

from snncontrol.cli import use_egl_without_a_display

# Before any node imports MuJoCo (it reads MUJOCO_GL once, then): the sim node's camera (publish_image) on a headless
# robot or CI machine, started by `ros2 run` or `ros2 launch` without MUJOCO_GL, ended in MuJoCo's FatalError.
use_egl_without_a_display()
