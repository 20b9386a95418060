"""FactoryTX configuration: shape, validation, secrets, templates, /v1/meta."""
