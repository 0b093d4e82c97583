"""Actions for the carer's control over contact and data: opt out, opt back in, delete my data."""

from .base import FlowAction


class ActionOptOut(FlowAction):
    """Emit opt_out and say nothing; every later turn stays silent until START."""

    action_name = "action_opt_out"
    command = "opt_out"


class ActionOptIn(FlowAction):
    action_name = "action_opt_in"
    command = "opt_in"


class ActionErase(FlowAction):
    """Ask to confirm; the confirming reply goes through the assessment step, which erases."""

    action_name = "action_erase"
    command = "erase"
