"""Actions that move through the assessment: answer, skip, change an answer, repeat, summary."""

from .base import FlowAction


class ActionAssessmentStep(FlowAction):
    """Take the carer's reply to the current question (or start, consent, resume) and ask the next."""

    action_name = "action_assessment_step"
    command = "answer"


class ActionSkip(FlowAction):
    action_name = "action_skip"
    command = "skip"


class ActionChangeAnswer(FlowAction):
    action_name = "action_change_answer"
    command = "back"


class ActionRepeat(FlowAction):
    action_name = "action_repeat"
    command = "repeat"


class ActionSummary(FlowAction):
    action_name = "action_summary"
    command = "summary"
