"""The case workflows' search attributes: declared once, upserted by the workflow, registered by
the embedded engine (``base.engine``) and listed in the README for a cluster's operator."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

SA_SCENARIO = SearchAttributeKey.for_keyword("DihflowScenario")
SA_STATE = SearchAttributeKey.for_keyword("DihflowState")
SA_LEAD_HUB = SearchAttributeKey.for_keyword("DihflowLeadHub")
SA_OVERDUE = SearchAttributeKey.for_bool("DihflowOverdue")
SEARCH_ATTRIBUTES = (SA_SCENARIO, SA_STATE, SA_LEAD_HUB, SA_OVERDUE)
