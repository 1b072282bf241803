"""The question domain: the question bank in the content store."""
