# A tiny test package for the local index of the e2e suite (not the real envd-test-epsilon).
from setuptools import setup

setup(name="envd-test-epsilon", version="1.0", py_modules=["envd_test_epsilon"])
