"""The matrix form of a worked solution: vectors and matrices with the numbers put in, tables where they are too big."""
