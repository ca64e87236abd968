"""Chapter 3, live on the real ESO controller: syncing secrets over time with the identity chapter 2 built.

- parameters.py: Parameters (chapter 2's names plus refresh_interval, extra_namespace, apply_solutions) and
  the names of what the chapter creates, derived from them;
- steps.py: the step table of diagrams/03_eso_reconcile_loop.mmd (one reconcile: token, /auth, describe,
  read, write, requeue);
- manifests.py: the ExternalSecret, ClusterSecretStore and PushSecret builders;
- chapter.py: `Chapter` (SyncingWithEso), one method per notebook cell;
- exercises.py: the chapter's exercises (the learner's answer applied, checked live, a solution to reveal),
  built on helpers.exercises.
"""
from .chapter import Chapter, SyncingWithEso
from .parameters import Parameters
from .steps import STEPS, step_of

__all__ = ["Chapter", "SyncingWithEso", "Parameters", "STEPS", "step_of"]
