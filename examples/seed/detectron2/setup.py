from setuptools import setup

setup(name="detectron2", version="0.6", packages=["detectron2"])
