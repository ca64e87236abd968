"""Helpers for the executable Akeyless Kubernetes-auth workshop: the public surface the notebooks use.

Notebooks import the modules they call (`from helpers import diagrams, display, failures, security` and
`from helpers.chapters import kubernetes_auth`);
the names below are the few a learner may want directly.
"""
from .config import Settings
from .errors import AkeylessError, ClusterError, ConfigError, LabError, LabNotRunning, LabOnly

__all__ = ["Settings", "LabError", "ConfigError", "LabNotRunning", "LabOnly", "ClusterError", "AkeylessError",
           "access", "akeyless_client", "chapters", "cluster", "diagrams", "display", "doctor", "eso", "failures",
           "lab", "security", "session", "tokens"]
