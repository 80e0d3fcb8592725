"""The interactive dashboard: a Streamlit page over the custseg library.

Needs the ``dashboard`` extra (``pip install 'custseg[dashboard]'``). Start it
with ``custseg dashboard``, which runs ``streamlit run`` on :data:`APP_PATH`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["APP_PATH"]

#: The Streamlit script (``streamlit run`` takes a file, not a module).
APP_PATH = Path(__file__).resolve().parent / "app.py"
