"""How a document is written out: Jinja2 rendering, LaTeX/PDF, HTML and MathML, and the registry of output formats."""
