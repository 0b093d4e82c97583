"""Actions for commands that work at any point: pause, resume, help, a person, contact times, reminders,
questions about the service, and life events."""

from .base import FlowAction


class ActionPause(FlowAction):
    action_name = "action_pause"
    command = "pause"


class ActionResume(FlowAction):
    action_name = "action_resume"
    command = "resume"


class ActionHelp(FlowAction):
    action_name = "action_help"
    command = "help"


class ActionHandoff(FlowAction):
    """Record that the carer asked for a person, tell them what happens next and stop asking."""

    action_name = "action_handoff"
    command = "human"


class ActionSafeguarding(FlowAction):
    """A risk heard by the NLU: a handoff event the gateway turns into its crisis reply and alert."""

    action_name = "action_safeguarding"
    command = "safeguarding"


class ActionContactWindow(FlowAction):
    action_name = "action_contact_window"
    command = "contact_window"


class ActionReminder(FlowAction):
    """The gateway's reminder turn (EXTERNAL_reminder): recap and offer to carry on, or stay silent."""

    action_name = "action_reminder"
    command = "reminder"


class ActionHandback(FlowAction):
    """A worker handed the conversation back (EXTERNAL_resume): carry on with the exact question."""

    action_name = "action_handback"
    command = "handback"


class ActionWhatIsThis(FlowAction):
    action_name = "action_what_is_this"
    command = "what_is_this"


class ActionWhoSees(FlowAction):
    action_name = "action_who_sees"
    command = "who_sees"


class ActionHowLong(FlowAction):
    action_name = "action_how_long"
    command = "how_long"


class ActionBereavement(FlowAction):
    """The person cared for has died: condolences and a person soon; the questions end."""

    action_name = "action_bereavement"
    command = "bereavement"


class ActionCareHomeOrHospital(FlowAction):
    action_name = "action_care_home_or_hospital"
    command = "care_home_or_hospital"


class ActionWrongNumber(FlowAction):
    """Not the carer's number: an apology, then never another text."""

    action_name = "action_wrong_number"
    command = "wrong_number"
