"""snncontrol: spiking neural networks that close sensing-to-action loops on robots.

Data flows one way: sense -> encode -> SNN -> decode -> act. This package is the SNN core; it knows neither
MuJoCo nor ROS.
"""

__version__ = "0.1.0"
