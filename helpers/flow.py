"""The old home of chapter 2's cells: they live in helpers.chapters.kubernetes_auth (on helpers.session)."""
from .chapters.kubernetes_auth import Chapter, Outcome, Parameters, TokenReviewExchange

__all__ = ["Chapter", "Outcome", "Parameters", "TokenReviewExchange"]
