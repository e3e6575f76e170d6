"""Checking a student's answers: reading them, verdicts that respect rounding, and the named mistakes that explain wrong ones."""
