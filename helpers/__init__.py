"""Helpers for the executable Akeyless Kubernetes-auth workshop: the public surface the notebooks use.

Notebooks import the modules they call (`from helpers import aks, commands, diagrams, display, doctor, failures, runbook, security` and
`from helpers.chapters import kubernetes_auth`, or `syncing` for chapter 3);
the names below are the few a learner may want directly.
"""
from .config import Settings
from .errors import AkeylessError, ClusterError, ConfigError, LabError, LabNotRunning, LabOnly

__all__ = ["Settings", "LabError", "ConfigError", "LabNotRunning", "LabOnly", "ClusterError", "AkeylessError",
           "access", "akeyless_client", "aks", "chapters", "cluster", "commands", "diagrams", "display", "doctor",
           "eso", "eso_controller", "eso_trace", "exercises", "failures", "lab", "runbook", "security", "session", "tokens",
           "workload", "workshop"]
