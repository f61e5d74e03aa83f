"""Glance Image API v2 over the domain gateway, as a WSGI application (webob for errors only).

``make_app(gateway, settings, context_factory=...)`` builds it; see :mod:`.app`.
"""

from glance_domain_adapters.wsgi.context import HeaderContextFactory, make_context_factory
from glance_domain_adapters.wsgi.settings import ApiSettings, StoreDetail

__all__ = ["ApiSettings", "HeaderContextFactory", "StoreDetail", "make_app", "make_context_factory"]


def __getattr__(name: str) -> object:
    # make_app is loaded lazily so importing the package (e.g. for ApiSettings) stays cheap.
    if name == "make_app":
        from glance_domain_adapters.wsgi.app import make_app

        return make_app
    raise AttributeError(name)
