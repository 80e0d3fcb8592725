"""Streamlit entry script of the custseg dashboard (``custseg dashboard`` runs it).

Streamlit executes this file top to bottom on every interaction; the page
itself lives in :mod:`custseg.dashboard.views`.
"""

from custseg.dashboard.views import main

main()
