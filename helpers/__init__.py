"""Helpers for the executable Akeyless Kubernetes-auth workshop: the public surface the notebooks use."""
from .config import Settings
from .errors import AkeylessError, ClusterError, ConfigError, LabError, LabNotRunning, LabOnly

__all__ = ["Settings", "LabError", "ConfigError", "LabNotRunning", "LabOnly", "ClusterError", "AkeylessError"]
