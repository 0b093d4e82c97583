"""CarerText's Rasa custom actions: the assessment, the commands and the session start."""
