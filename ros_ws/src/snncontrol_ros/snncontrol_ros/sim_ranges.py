"""The sim node's numeric parameter ranges (`snncontrol_ros.sim_node` stops at start, in one line, on a value outside
them), here so that a launcher checks its options against them without loading MuJoCo."""

RANGES = {  # numeric parameters outside these stop the node at start, in one line
    "seed": (0, 2**31 - 1),
    "realtime_factor": (0.01, 1000.0),
    "episode_length_s": (0.01, 1e7),
    "lockstep_timeout_s": (0.001, 3600.0),
    "startup_delay_s": (0.0, 3600.0),
    "lockstep_subscribers": (0, 100),
    "command_timeout_s": (0.001, 3600.0),
    "image_every_n": (1, 100000),
    "image_width": (1, 4096),
    "image_height": (1, 4096),
}
