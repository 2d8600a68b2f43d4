"""The framework agreement edition's lifecycle, declared like the case lifecycles.

consultation → consolidation → signature → in_force. Events named in ``FRAMEWORK_ACTIONS`` are
human steps (the API's kebab-case actions); the others are taken by the system (the deadline's
timer, the quorum, the notice period's timer). ``domain.framework`` asks it whether a step is
legal in the edition's state and fires it to move the edition on.
"""

from __future__ import annotations

from typing import Any

from statemachine import State, StateChart

# action (snake_case) → who takes it: member hubs, the back office, a hub's signatory
FRAMEWORK_ACTIONS: dict[str, str] = {
    "comment": "member hub",
    "propose_amendment": "member hub",
    "vote": "member hub",
    "extend_deadline": "back office",
    "decide_amendment": "back office",
    "publish_final": "back office",
    "sign": "hub signatory",
    "give_notice": "hub signatory",
}


class FrameworkLifecycle(StateChart):  # type: ignore[misc]
    allow_event_without_transition = False
    catch_errors_as_events = False

    consultation = State(initial=True)
    consolidation = State()
    signature = State()
    in_force = State()

    # human steps
    comment = consultation.to.itself()
    propose_amendment = consultation.to.itself()
    vote = consultation.to.itself()
    extend_deadline = consultation.to.itself()
    decide_amendment = consolidation.to.itself()
    publish_final = consolidation.to(signature)
    sign = signature.to.itself() | in_force.to.itself()
    give_notice = in_force.to.itself()

    # system steps
    deadline_passed = consultation.to(consolidation)
    quorum_reached = signature.to(in_force)
    withdrawal_effective = in_force.to.itself()


def lifecycle(model: Any) -> Any:
    """The lifecycle positioned at ``model.state`` (no entry actions run)."""
    return FrameworkLifecycle(model=model, start_value=model.state)


def enabled_actions(model: Any) -> list[str]:
    return [e.id for e in lifecycle(model).enabled_events() if e.id in FRAMEWORK_ACTIONS]


def fire(model: Any, event: str) -> str:
    """Apply ``event`` (updates ``model.state``); raises ``TransitionNotAllowed`` if illegal."""
    lifecycle(model).send(event)
    return str(model.state)
