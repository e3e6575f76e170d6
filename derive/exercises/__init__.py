"""Worksheets, answer keys and quizzes (Moodle, Canvas QTI) built from versions of a network."""
