"""What a document says: the document model, the scalar and matrix writers, printing of numbers and formulas, diagrams, plots and slides."""
