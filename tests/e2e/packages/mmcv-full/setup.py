# A tiny test package for the local index of the e2e suite (not the real mmcv-full).
from setuptools import setup

setup(name="mmcv-full", version="1.7.0", py_modules=["mmcv"])
