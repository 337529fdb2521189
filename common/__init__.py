"""What several parts need: run folders, seeding, device choice, offline weight files, user errors.

Imports none of augment/gen/clf/experiments.
"""
from common.errors import UserError

__all__ = ["UserError"]
