"""The ``glance-domain`` command line: serve, manage the database, and work on images in-process.

One small module per command group (``serve``, ``db``, ``images``, ``image_data``, ``tags``,
``members``); ``main`` assembles the parser, runs the chosen handler and turns every failure into
a one-line message and an exit code (2 for bad usage, 1 for a refused or failed operation).
"""

from glance_domain_adapters.cli.main import main

__all__ = ["main"]
