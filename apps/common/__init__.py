"""Code both twins share: models, error bodies, CPU work, schema. Pure: no I/O here."""
