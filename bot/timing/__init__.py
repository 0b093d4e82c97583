"""Clock, quiet hours, working days, reminders, scheduler."""
