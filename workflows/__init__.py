"""Workflows registered by the worker: ``from workflows import WORKFLOWS``.

The list is built on first access, not when the package is imported. The sandbox re-imports
this package each time it loads one workflow module; importing the *other* workflow modules
there would reload them for nothing (and the strict sandbox of the replay tests refuses it as
an unintentional passthrough).
"""

from __future__ import annotations


def __getattr__(name: str) -> list[type]:
    if name == "WORKFLOWS":
        from workflows.case import CollaborationCaseWorkflow
        from workflows.framework import FrameworkAgreementWorkflow
        from workflows.webhook import WebhookDeliveryWorkflow

        return [CollaborationCaseWorkflow, WebhookDeliveryWorkflow, FrameworkAgreementWorkflow]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
