"""The completed carer's assessment as a structured record, and its exports (JSON, FHIR R4, a short copy)."""

from bot.duty.assessment.record import assessment_record, load_questions
from bot.duty.assessment.exports import fhir_questionnaire, fhir_questionnaire_response, short_copy, to_json

__all__ = ["assessment_record", "load_questions", "fhir_questionnaire", "fhir_questionnaire_response",
           "short_copy", "to_json"]
