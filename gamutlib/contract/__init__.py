"""The method contract: what a method gives the engine, and what an editor declares.

- ``Method``, ``Phase``, ``build_config``, ``DataclassConfig`` (method.py):
  the interface the training engine drives;
- ``register_method`` (registry.py): a method's name -> its factory;
- ``Control``, ``VectorControl`` (controls.py): an editor's controls, declared once.

Models and the engine both import this package; it imports nothing else of
gamutlib, so neither has to import the other.
"""

from gamutlib.contract.controls import Control, VectorControl, check_values
from gamutlib.contract.method import DataclassConfig, Method, Phase, build_config
from gamutlib.contract.registry import build_method, register_method, registered_methods

__all__ = ["Control", "DataclassConfig", "Method", "Phase", "build_config", "build_method", "check_values", "register_method",
           "registered_methods", "VectorControl"]
