"""glance_domain_adapters: everything that touches the outside world (HTTP, SQL, config, policy,
notifications, store plugins) around the pure ``glance_domain`` core."""
