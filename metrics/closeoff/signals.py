"""Signals of 销号: sent inside the deciding transaction, for the ladder to act on (connected in metrics.apps)."""

from django.dispatch import Signal

# A task (and its sub-tasks, `task_ids`) was closed off (已销号): their open supervision orders close now.
tasks_closed_off = Signal()
