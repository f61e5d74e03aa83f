"""Built-in store drivers (loaded through the ``glance_store_plugins.drivers`` entry points)."""
