"""Inbox, outbox, worker, conversation, flood control, WhatsApp buttons."""
