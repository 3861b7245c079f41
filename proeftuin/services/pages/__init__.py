"""The page tier: what the web layer calls, one function per page or action.

Each module here mirrors one module of ``proeftuin.web`` (``web/voting.py`` calls
``pages/voting.py``). A page function looks up what the URL names, checks who may see it, calls
the domain services below and returns frozen dataclasses for the template. It declares its
transaction (``proeftuin.services.pages.declare``), so the web layer never chooses one.
"""
