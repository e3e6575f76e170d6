import sys
from pathlib import Path

# the tests' helpers, and the tools that make outputs/ (the tests compare with them)
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tools"))
