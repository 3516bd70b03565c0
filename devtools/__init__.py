"""Ferramentas de desenvolvimento e teste (nunca usadas em produção)."""
