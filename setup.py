"""`pip install .` installs the ROS-free core (geometry, models, API, CLI). The ROS package itself is
built by colcon/ament_cmake from CMakeLists.txt, which also installs this Python package."""

from setuptools import setup

setup()
