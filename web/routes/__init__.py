"""Route modules: each handler parses the request, calls a service, renders a template."""
