"""glance_domain: the pure-Python core of an image service speaking Glance's v2 model.

No framework is imported here: HTTP, SQL, configuration and plugins live in
``glance_domain_adapters`` and ``glance_store_plugins``.
"""
