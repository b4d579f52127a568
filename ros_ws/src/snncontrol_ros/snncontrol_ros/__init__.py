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
