# A tiny test package for the local index of the e2e suite (not the real torch).
from setuptools import setup

setup(name="torch", version="1.10", py_modules=["torch"])
