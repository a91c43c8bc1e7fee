"""From YAML files to a validated, frozen ``Scenario``, and worlds drawn from it.

Reading YAML with the line of every key, ``extends`` and merging, the pydantic
schema, cross-reference checks, the ``seeds/`` registry of sources, ``--set``
overrides, uncertain numbers and dates and drawing them. Knows nothing of
the world's arrays or of SimPy.
"""
from .drawing import drawn_inputs, has_distributions, realise
from .loading import load_scenario, read_scenario, registry_for, validate_document
from .registry import Registry, load_registry
from .schema import Scenario

__all__ = ["Registry", "Scenario", "drawn_inputs", "has_distributions", "load_registry", "load_scenario",
           "read_scenario", "realise", "registry_for", "validate_document"]
