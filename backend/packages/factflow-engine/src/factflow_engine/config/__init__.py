"""Pipeline config: schema, parsing with line numbers, static checks, param resolution."""
