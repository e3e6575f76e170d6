"""The scalar form of a worked solution: every net input, output, delta, gradient and update written out, unit by unit."""
