import sys
from pathlib import Path

# Import the actions package the way the action server does (from rasa_project/), and tests/chat.py.
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
