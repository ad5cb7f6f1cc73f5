"""Small framework-free helpers (no Django imports)."""
