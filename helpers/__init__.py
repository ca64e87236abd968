"""Helpers for the executable Akeyless Kubernetes-auth workshop: the public surface the notebooks use.

Notebooks import the modules they call (`from helpers import flow, diagrams, failures, security`);
the names below are the few a learner may want directly.
"""
from .config import Settings
from .errors import AkeylessError, ClusterError, ConfigError, LabError, LabNotRunning, LabOnly

__all__ = ["Settings", "LabError", "ConfigError", "LabNotRunning", "LabOnly", "ClusterError", "AkeylessError",
           "access", "akeyless_client", "cluster", "diagrams", "display", "doctor", "eso", "failures", "flow",
           "lab", "security", "tokens"]
