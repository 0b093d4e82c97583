"""Outside parties (Rasa, Twilio) behind small interfaces."""
