"""Convoca: funding-opportunity matcher for the Área Metropolitana del Valle de Aburrá."""

__version__ = "0.1.0"
