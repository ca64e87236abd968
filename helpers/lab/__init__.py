"""The embedded lab: a Kubernetes API and an Akeyless gateway served on loopback by one process."""
from .runtime import LabInfo, LabStatus, advance_clock, clock_offset, down, info, reset, reset_clock, running_mode, status, up

__all__ = ["LabInfo", "LabStatus", "advance_clock", "clock_offset", "down", "info", "reset", "reset_clock", "running_mode", "status", "up"]
