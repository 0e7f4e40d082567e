"""The staff console: review conversations, teach the assistant, take over from it (issue 9)."""
