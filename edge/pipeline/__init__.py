"""FactoryTX: configuration, component registry, scheduler threads, receivers, parsers, transforms."""
