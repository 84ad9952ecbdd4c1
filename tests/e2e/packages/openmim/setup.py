# A tiny test package for the local index of the e2e suite (not the real openmim).
from setuptools import setup

setup(name="openmim", version="0.3.0", py_modules=["mim"], entry_points={"console_scripts": ["mim=mim:main"]})
