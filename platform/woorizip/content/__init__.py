"""Content store (questions, answers, assignments, events): MongoDB over pymongo."""
