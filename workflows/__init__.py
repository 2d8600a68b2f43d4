"""Workflows registered by the worker."""

from workflows.case import CollaborationCaseWorkflow

WORKFLOWS = [CollaborationCaseWorkflow]
