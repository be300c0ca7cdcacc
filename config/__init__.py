"""Configuration: municipality YAML files, the source list, and their schema and loader."""
